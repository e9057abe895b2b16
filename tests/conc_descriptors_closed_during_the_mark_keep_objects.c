// labels: gc threads
/* Mostly-concurrent marking (SPANGC_CONCURRENT=1, set here) while the
 * program closes every descriptor above 2, as daemons and shells do
 * (close_range(3, ~0U, 0), or closing them one by one where the kernel
 * lacks it), over and over from a thread of its own: some of those
 * closes land in the middle of a concurrent mark and take the
 * collector's userfaultfd and pagemap file with them, so the writes made
 * from then on are in no record.  Meanwhile a mutator keeps rewriting a
 * linked structure made before the collections (old objects): it cuts
 * lists and splices their tails onto others, moves nodes from the front
 * of one list to the end of another, and replaces nodes with new ones
 * (freeing the old), so that after each step the only references to the
 * nodes it moved are in old objects on pages it just wrote, objects the
 * markers may already have scanned.  Garbage it allocates between steps
 * reuses any slot freed wrongly.  Every node carries its id, a check word
 * and a pointer-free blob; at the end every list is walked and every node
 * checked and counted.
 * The collector must notice the lost registration (the listing is not
 * trusted: sgc_stats.dirty_lost grows), register again, and make the
 * final stop rescan every marked object (design.md §8e, remark_all).
 * Catches: a final stop that trusts a listing made after the
 * registration was lost, a pre-cleaning round that does, a lost
 * registration not noticed or not made again. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define NH 32 /* holders: old objects holding the lists' heads */
#define NS 8  /* lists per holder */
#define NLIST (NH * NS)

typedef struct node {
  struct node *next;
  uint64_t id, check;
  uint64_t *blob; /* noscan: id, ~id */
} node;

typedef struct holder {
  node *head[NS];
} holder;

static holder *volatile hold[NH]; /* the only roots of the structure */
static int stop;                  /* atomic */
static uint64_t next_id = 1;
static long closes, ops; /* atomic */

#define CHECK_WORD(id) ((id) * 0x9e3779b97f4a7c15ull ^ 0xc105edull)

static node *new_node(void) {
  node *n = sgc_alloc(sizeof(node));
  uint64_t *b = sgc_alloc_noscan(16);
  CHECK(n != NULL && b != NULL);
  uint64_t id = next_id++;
  b[0] = id;
  b[1] = ~id;
  n->id = id;
  n->check = CHECK_WORD(id);
  n->blob = b;
  return n;
}

static void check_node(const node *n) {
  CHECKF(sgc_base(n) == n && n->check == CHECK_WORD(n->id) &&
             n->blob != NULL && sgc_base(n->blob) == n->blob &&
             n->blob[0] == n->id && n->blob[1] == ~n->id,
         "node %p (id %llu, check %llx) lost: blob %p", (const void *)n,
         (unsigned long long)n->id, (unsigned long long)n->check,
         (void *)n->blob);
}

static node **head_of(int l) { return &hold[l / NS]->head[l % NS]; }

/* Cut the nodes after list a's k-th out (at most m of them) and put
 * them in front of list b. */
static void splice(int a, int b, uint64_t k, uint64_t m) {
  node *p = *head_of(a);
  for (uint64_t i = 0; p && p->next && i < k; i++)
    p = p->next;
  if (p == NULL || p->next == NULL)
    return;
  node *first = p->next, *last = first;
  for (uint64_t i = 1; last->next && i < m; i++)
    last = last->next;
  p->next = last->next;
  last->next = *head_of(b);
  *head_of(b) = first;
}

/* Move list a's first node to the end of list b. */
static void to_end(int a, int b) {
  node *n = *head_of(a);
  if (n == NULL)
    return;
  *head_of(a) = n->next;
  n->next = NULL;
  node **q = head_of(b);
  while (*q)
    q = &(*q)->next;
  *q = n;
}

/* Replace the k-th node of list a by a new one; free the old one. */
static void replace(int a, uint64_t k) {
  node **q = head_of(a);
  for (uint64_t i = 0; *q && (*q)->next && i < k; i++)
    q = &(*q)->next;
  node *old = *q;
  if (old == NULL)
    return;
  node *fresh = new_node();
  fresh->next = old->next;
  *q = fresh;
  check_node(old);
  sgc_free(old->blob);
  sgc_free(old);
}

static void *mutator(void *arg) {
  uint64_t s = 0x2545f4914f6cdd1dull ^ (uint64_t)(uintptr_t)arg;
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
    int a = (int)(xorshift64(&s) % NLIST), b = (int)(xorshift64(&s) % NLIST);
    switch (xorshift64(&s) % 4) {
    case 0: splice(a, b, xorshift64(&s) % 32, 1 + xorshift64(&s) % 16); break;
    case 1: to_end(a, b); break;
    case 2: replace(a, xorshift64(&s) % 16); break;
    default:
      for (int i = 0; i < 16; i++) {
        uint64_t *g = sgc_alloc(32);
        CHECK(g != NULL);
        for (int w = 0; w < 4; w++)
          g[w] = GARBAGE_WORD;
      }
    }
    __atomic_fetch_add(&ops, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

/* What a daemon does: close every descriptor above 2. */
static void close_from_3(void) {
  if (syscall(SYS_close_range, 3u, ~0u, 0) == 0)
    return;
  struct rlimit rl;
  CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
  for (int fd = 3; fd < (int)rl.rlim_cur && fd < 65536; fd++)
    close(fd);
}

static void *closer(void *arg) {
  uint64_t s = 0x1234567ull ^ (uint64_t)(uintptr_t)arg;
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
    struct timespec d = {0, (long)(100000 + xorshift64(&s) % 2000000)};
    sgc_enter_blocking();
    nanosleep(&d, NULL);
    sgc_exit_blocking();
    close_from_3();
    __atomic_fetch_add(&closes, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

int main(void) {
  if (!conc_init_or_skip())
    return 0;
  int len = (int)(400 * test_scale());
  if (len < 50)
    len = 50;
  for (int h = 0; h < NH; h++) {
    hold[h] = sgc_alloc(sizeof(holder));
    CHECK(hold[h] != NULL);
  }
  for (int l = 0; l < NLIST; l++)
    for (int k = 0; k < len; k++) {
      node *n = new_node();
      n->next = *head_of(l);
      *head_of(l) = n;
    }
  const int64_t total = (int64_t)NLIST * len;
  sgc_collect(); /* the structure is old */
  sgc_stats st0;
  sgc_read_stats(&st0);

  pthread_t mt, ct;
  CHECK(sgc_pthread_create(&mt, NULL, mutator, (void *)1) == 0);
  CHECK(sgc_pthread_create(&ct, NULL, closer, (void *)2) == 0);
  double end = now_seconds() + 3 * test_scale() + 1;
  int rounds = 0;
  while (now_seconds() < end || rounds < 20) {
    sgc_collect();
    rounds++;
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  sgc_enter_blocking();
  pthread_join(mt, NULL);
  pthread_join(ct, NULL);
  sgc_exit_blocking();
  sgc_collect();

  int64_t seen = 0;
  for (int l = 0; l < NLIST; l++)
    for (node *n = *head_of(l); n; n = n->next) {
      check_node(n);
      CHECKF(++seen <= total, "more than %lld nodes: a list loops",
             (long long)total);
    }
  sgc_stats st;
  sgc_read_stats(&st);
  printf("%d sgc_collect calls (%llu concurrent collections), %ld closes, %ld steps, %llu "
         "untrusted listings; %lld nodes kept of %lld\n",
         rounds, (unsigned long long)(st.num_concurrent_gc -
                                      st0.num_concurrent_gc),
         closes, ops, (unsigned long long)(st.dirty_lost - st0.dirty_lost),
         (long long)seen, (long long)total);
  CHECKF(seen == total, "%lld nodes reachable, %lld made", (long long)seen,
         (long long)total);
  CHECK(st.num_concurrent_gc - st0.num_concurrent_gc >= 10);
  /* The closes reached the collector's descriptors, and it noticed. */
  CHECK(st.dirty_lost > st0.dirty_lost);
  return 0;
}
