// labels: gc
/* Mark procedures (sgc_new_mark_proc, SGC_MAKE_PROC kinds), run by two
 * marker threads (sgc_set_markers(2)):
 *  - a procedure that marks some fields with sgc_mark_and_push and pushes
 *    a range entry (start, SGC_DS_LENGTH byte count) for a malloc'ed side
 *    table keeps exactly those alive: everything it reports survives many
 *    collections intact (exact), the field it does not report dies (most
 *    of them: >= 90% of their weak slots cleared);
 *  - the procedure receives the env of its kind's descriptor (two kinds
 *    share the procedure with different envs, one of them 56 bits wide);
 *  - a procedure that pushes far more entries than its entry stack holds
 *    (5000 one-word ranges per object, bdwgc's idiom: if (++top >= limit)
 *    top = sgc_mark_stack_overflow(top)) loses none of them;
 *  - sgc_push_range, sgc_mark_and_push and sgc_mark_stack_overflow called
 *    outside a collection abort with a message naming the call. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define ENV_A ((uintptr_t)0x00a5a5a5123456ull)
#define ENV_B (((uintptr_t)1 << 55) | 0x0f0f0f0f0f0full) /* 56 bits */
#define MAGIC 0x0bad5eed00000000ull

/* A node of the proc kind.  'next' and 'payload' are reported with
 * sgc_mark_and_push, 'side' (malloc'ed) with a range entry; 'unreported'
 * is not reported, and since the object is not scanned otherwise its
 * target must die. */
typedef struct node {
  struct node *next;
  uint64_t *payload;
  void **side;
  size_t nside;
  void *unreported;
  uintptr_t env; /* the env the procedure must receive */
  uint64_t tag;
} node;

/* A fan object: 'arr' (malloc'ed) holds n pointers, pushed as n separate
 * one-word ranges. */
typedef struct fan {
  void **arr;
  size_t n;
  void *unreported;
} fan;

static long env_errors, node_calls, fan_calls; /* atomic */

static sgc_mark_entry *node_proc(uintptr_t *addr, sgc_mark_entry *top,
                                 sgc_mark_entry *limit, uintptr_t env) {
  node *n = (node *)addr;
  __atomic_add_fetch(&node_calls, 1, __ATOMIC_RELAXED);
  if (n->env != 0 && env != n->env)
    __atomic_add_fetch(&env_errors, 1, __ATOMIC_RELAXED);
  top = sgc_mark_and_push(n->next, top, limit, (void **)&n->next);
  top = sgc_mark_and_push(n->payload, top, limit, (void **)&n->payload);
  if (n->side != NULL) {
    if (++top >= limit)
      top = sgc_mark_stack_overflow(top);
    top->start = n->side;
    top->descr = n->nside * sizeof(void *) | SGC_DS_LENGTH;
  }
  return top;
}

static sgc_mark_entry *fan_proc(uintptr_t *addr, sgc_mark_entry *top,
                                sgc_mark_entry *limit, uintptr_t env) {
  fan *f = (fan *)addr;
  __atomic_add_fetch(&fan_calls, 1, __ATOMIC_RELAXED);
  if (env != ENV_A)
    __atomic_add_fetch(&env_errors, 1, __ATOMIC_RELAXED);
  if (f->arr == NULL)
    return top;
  for (size_t i = 0; i < f->n; i++) {
    if (++top >= limit)
      top = sgc_mark_stack_overflow(top);
    top->start = &f->arr[i];
    top->descr = sizeof(void *) | SGC_DS_LENGTH;
  }
  return top;
}

static uint64_t *payload(uint64_t id) {
  uint64_t *p = sgc_alloc_noscan(32);
  CHECK(p != NULL);
  p[0] = MAGIC ^ id;
  p[1] = id;
  p[2] = ~id;
  p[3] = id * 3;
  return p;
}

static void payload_check(const uint64_t *p, uint64_t id, const char *what) {
  CHECKF(p != NULL && p[0] == (MAGIC ^ id) && p[1] == id && p[2] == ~id &&
             p[3] == id * 3,
         "%s: object %llu lost or corrupted", what, (unsigned long long)id);
}

#define NNODES 2000
#define NSIDE 3
#define NFANS 4
#define FANOUT 5000

/* Roots: the list heads and the fans. */
node *volatile g_list_a, *volatile g_list_b;
fan *volatile g_fans[NFANS];
static int kind_a, kind_b, kind_fan;

/* Weak slots (malloc'ed) of what must die. */
static void **dead_slots;
static size_t ndead;

/* A fan's element: a scanned object pointing to a noscan payload. */
typedef struct elem {
  uint64_t *payload;
  uint64_t id;
} elem;

__attribute__((noinline)) static node *make_list(int kind, uintptr_t env,
                                                uint64_t base) {
  node *head = NULL;
  for (uint64_t i = 0; i < NNODES; i++) {
    node *n = sgc_alloc_kind(sizeof *n, kind);
    CHECK(n != NULL && sgc_kind_of(n) == kind);
    n->env = env;
    n->tag = base + i;
    n->payload = payload(base + i);
    n->side = malloc(NSIDE * sizeof(void *));
    CHECK(n->side != NULL);
    n->nside = NSIDE;
    for (int k = 0; k < NSIDE; k++)
      n->side[k] = payload((base + i) * 16 + 1 + (uint64_t)k);
    n->unreported = payload(0);
    dead_slots[ndead++] = n->unreported;
    n->next = head;
    head = n;
  }
  return head;
}

__attribute__((noinline)) static void make_fans(void) {
  for (int f = 0; f < NFANS; f++) {
    fan *o = sgc_alloc_kind(sizeof *o, kind_fan);
    CHECK(o != NULL);
    void **arr = malloc(FANOUT * sizeof(void *));
    CHECK(arr != NULL);
    for (size_t i = 0; i < FANOUT; i++) {
      elem *e = sgc_alloc(sizeof *e);
      CHECK(e != NULL);
      e->id = (uint64_t)f << 32 | i;
      e->payload = payload(e->id);
      arr[i] = e;
    }
    o->unreported = payload(0);
    dead_slots[ndead++] = o->unreported;
    o->n = FANOUT;
    o->arr = arr;
    g_fans[f] = o;
  }
}

static void check_list(node *head, uint64_t base, const char *what) {
  uint64_t i = NNODES;
  for (node *n = head; n != NULL; n = n->next) {
    CHECKF(i > 0, "%s: list too long", what);
    i--;
    CHECKF(n->tag == base + i, "%s: node %llu has tag %llu", what,
           (unsigned long long)(base + i), (unsigned long long)n->tag);
    payload_check(n->payload, base + i, what);
    for (int k = 0; k < NSIDE; k++)
      payload_check(n->side[k], (base + i) * 16 + 1 + (uint64_t)k, what);
  }
  CHECKF(i == 0, "%s: list lost %llu nodes", what, (unsigned long long)i);
}

static void check_fans(const char *what) {
  for (int f = 0; f < NFANS; f++) {
    fan *o = g_fans[f];
    for (size_t i = 0; i < FANOUT; i++) {
      elem *e = o->arr[i];
      uint64_t id = (uint64_t)f << 32 | i;
      CHECKF(e->id == id, "%s: fan %d element %zu lost (id %llx)", what, f,
             i, (unsigned long long)e->id);
      payload_check(e->payload, id, what);
    }
  }
}

__attribute__((noinline)) static void churn(long n) {
  for (long i = 0; i < n; i++) {
    uint64_t *p = sgc_alloc_noscan(32);
    CHECK(p != NULL);
    memset(p, 0x5A, 32);
    if (i % 4 == 0) {
      elem *e = sgc_alloc(sizeof *e);
      CHECK(e != NULL);
      e->id = ~0ull;
    }
  }
}

/* ---------------------------------------------- misuse: abort cases */

static int death(const char *which) {
  sgc_init();
  void *p = sgc_alloc(64);
  sgc_mark_entry buf[4];
  if (strcmp(which, "push_range") == 0)
    sgc_push_range(&p, &p + 1);
  else if (strcmp(which, "mark_and_push") == 0)
    sgc_mark_and_push(p, buf, buf + 4, &p);
  else if (strcmp(which, "overflow") == 0)
    sgc_mark_stack_overflow(buf + 1);
  return 3; /* did not abort */
}

static void expect_death(const char *self, const char *which,
                         const char *call) {
  char out[4096];
  int status = run_self(self, which, out, sizeof out);
  CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
         "%s outside a collection: status %#x, output:\n%s", call, status,
         out);
  CHECKF(strstr(out, call) != NULL, "the message does not name %s:\n%s",
         call, out);
}

int main(int argc, char **argv) {
  if (argc > 1)
    return death(argv[1]);
  sgc_init();
  CHECK(sgc_set_markers(2) == 0);

  int pnode = sgc_new_mark_proc(node_proc);
  int pfan = sgc_new_mark_proc(fan_proc);
  CHECKF(pnode >= 8 && pnode < 64 && pfan >= 8 && pfan < 64 && pnode != pfan,
         "procedure indices %d, %d", pnode, pfan);
  kind_a = sgc_new_kind(SGC_MAKE_PROC(pnode, ENV_A), 0);
  kind_b = sgc_new_kind(SGC_MAKE_PROC(pnode, ENV_B), 0);
  kind_fan = sgc_new_kind(SGC_MAKE_PROC(pfan, ENV_A), 0);
  CHECK(kind_a >= 2 && kind_b >= 2 && kind_fan >= 2);

  dead_slots = calloc(2 * NNODES + NFANS, sizeof(void *));
  CHECK(dead_slots != NULL);
  g_list_a = make_list(kind_a, ENV_A, 1);
  g_list_b = make_list(kind_b, ENV_B, 1u << 20);
  make_fans();
  for (size_t i = 0; i < ndead; i++)
    CHECK(sgc_register_weak(&dead_slots[i], dead_slots[i]) == 0);
  clear_stack();

  const int rounds = 8;
  for (int r = 0; r < rounds; r++) {
    sgc_collect();
    churn(scaled(100000));
    check_list(g_list_a, 1, "list A");
    check_list(g_list_b, 1u << 20, "list B");
    check_fans("fans");
  }
  clear_stack();
  settle();
  check_list(g_list_a, 1, "list A");
  check_list(g_list_b, 1u << 20, "list B");
  check_fans("fans");

  sgc_stats st;
  sgc_read_stats(&st);
  CHECKF(st.markers == 2, "markers %d", st.markers);
  CHECKF(env_errors == 0, "%ld procedure calls received the wrong env",
         env_errors);
  CHECKF(node_calls >= (long)(rounds + 6) * 2 * NNODES,
         "node procedure ran %ld times", node_calls);
  CHECKF(fan_calls >= (long)(rounds + 6) * NFANS, "fan procedure ran %ld "
         "times", fan_calls);
  size_t cleared = 0;
  for (size_t i = 0; i < ndead; i++)
    cleared += dead_slots[i] == NULL;
  printf("%d + %d nodes, %d x %d fanned-out objects intact; %zu of %zu "
         "unreported targets collected; %ld node and %ld fan procedure "
         "calls\n", NNODES, NNODES, NFANS, FANOUT, cleared, ndead,
         node_calls, fan_calls);
  CHECKF(cleared >= ndead * 9 / 10, "only %zu of %zu targets of unreported "
         "fields collected", cleared, ndead);

  expect_death(argv[0], "push_range", "sgc_push_range");
  expect_death(argv[0], "mark_and_push", "sgc_mark_and_push");
  expect_death(argv[0], "overflow", "sgc_mark_stack_overflow");
  return 0;
}
