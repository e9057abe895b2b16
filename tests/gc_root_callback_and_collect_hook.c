// labels: gc
/* Collection hooks.
 * sgc_set_root_callback:
 *  - a callback that sgc_push_range()s a malloc'ed array of pointers keeps
 *    every object of the array alive, contents intact, through many
 *    collections (exact); objects it reports with sgc_mark_and_push are
 *    kept and scanned; an object it marks with sgc_set_mark_bit is kept
 *    but not scanned (what only it points to dies, >= 90%);
 *  - it runs once per collection; setting returns the previous callback;
 *    once removed, the objects die (>= 90%).
 * sgc_set_collect_hook:
 *  - a hook returning nonzero prevents allocation-triggered collections:
 *    200 MB of garbage, num_gc unchanged; it is called (forced == 0) and
 *    may call into spangc (here sgc_read_stats) without deadlock;
 *  - sgc_collect still collects, calling the hook once with forced != 0;
 *  - a hook returning 0 is called once per collection;
 *  - setting returns the previous hook. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define NPUSH 3000
#define NMARK 500
#define NBIT 500
#define MAGIC 0xfacade0000000000ull

typedef struct obj {
  uint64_t id;
  uint64_t *leaf; /* noscan, 4 words */
  uint64_t check;
} obj;

static void **pushed;   /* malloc'ed array pushed by the callback */
static obj **marked;    /* malloc'ed: reported with sgc_mark_and_push */
static obj **bitonly;   /* malloc'ed: reported with sgc_set_mark_bit */
static void **slots_pushed, **slots_bitleaf; /* weak slots, malloc'ed */
static long cb_calls;

static void root_cb(void) {
  cb_calls++;
  sgc_push_range(pushed, pushed + NPUSH);
  for (int i = 0; i < NMARK; i++)
    sgc_mark_and_push(marked[i], NULL, NULL, NULL);
  for (int i = 0; i < NBIT; i++)
    sgc_set_mark_bit(bitonly[i]);
}

static void other_cb(void) {}

static obj *new_obj(uint64_t id) {
  obj *o = sgc_alloc(sizeof *o);
  CHECK(o != NULL);
  o->id = id;
  o->check = MAGIC ^ id;
  o->leaf = sgc_alloc_noscan(4 * sizeof(uint64_t));
  CHECK(o->leaf != NULL);
  for (int k = 0; k < 4; k++)
    o->leaf[k] = ~(id * 4 + (uint64_t)k);
  return o;
}

static void obj_check(const obj *o, uint64_t id, const char *what) {
  CHECKF(o->id == id && o->check == (MAGIC ^ id), "%s: object %llu lost or "
         "corrupted", what, (unsigned long long)id);
  for (int k = 0; k < 4; k++)
    CHECKF(o->leaf[k] == ~(id * 4 + (uint64_t)k), "%s: leaf of object %llu "
           "corrupted", what, (unsigned long long)id);
}

__attribute__((noinline)) static void make_objects(void) {
  for (int i = 0; i < NPUSH; i++) {
    pushed[i] = new_obj((uint64_t)i);
    slots_pushed[i] = pushed[i];
  }
  for (int i = 0; i < NMARK; i++)
    marked[i] = new_obj(100000 + (uint64_t)i);
  for (int i = 0; i < NBIT; i++) {
    bitonly[i] = new_obj(200000 + (uint64_t)i);
    slots_bitleaf[i] = bitonly[i]->leaf;
  }
}

__attribute__((noinline)) static void garbage(long bytes) {
  for (long done = 0; done < bytes; done += 1024) {
    char *p = sgc_alloc(1024);
    CHECK(p != NULL);
    p[0] = 1;
  }
}

static void check_alive(const char *what) {
  for (int i = 0; i < NPUSH; i++) {
    obj_check(pushed[i], (uint64_t)i, what);
    CHECKF(slots_pushed[i] == pushed[i], "%s: weak slot of pushed object "
           "%d cleared", what, i);
  }
  for (int i = 0; i < NMARK; i++)
    obj_check(marked[i], 100000 + (uint64_t)i, what);
  for (int i = 0; i < NBIT; i++) {
    const obj *o = bitonly[i];
    CHECKF(o->id == 200000 + (uint64_t)i &&
               o->check == (MAGIC ^ (200000 + (uint64_t)i)),
           "%s: object %d marked with sgc_set_mark_bit lost", what, i);
  }
}

/* ---------------------------------------------- collect hook */

static long hook_calls, hook_forced_calls, hook_stats_ok;
static int hook_veto;

static int hook(int forced) {
  if (forced)
    hook_forced_calls++;
  else
    hook_calls++;
  if (hook_calls + hook_forced_calls == 1) {
    /* Outside the collector's locks: calling spangc is allowed. */
    sgc_stats st;
    sgc_read_stats(&st);
    hook_stats_ok = 1;
  }
  return hook_veto;
}

static int other_hook(int forced) { return 0; }

static uint64_t num_gc(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return st.num_gc;
}

int main(void) {
  sgc_init();
  pushed = calloc(NPUSH, sizeof *pushed);
  marked = calloc(NMARK, sizeof *marked);
  bitonly = calloc(NBIT, sizeof *bitonly);
  slots_pushed = calloc(NPUSH, sizeof *slots_pushed);
  slots_bitleaf = calloc(NBIT, sizeof *slots_bitleaf);
  CHECK(pushed && marked && bitonly && slots_pushed && slots_bitleaf);

  /* Setting returns the previous callback. */
  CHECK(sgc_set_root_callback(other_cb) == NULL);
  CHECK(sgc_set_root_callback(root_cb) == other_cb);

  make_objects();
  for (int i = 0; i < NPUSH; i++)
    CHECK(sgc_register_weak(&slots_pushed[i], slots_pushed[i]) == 0);
  for (int i = 0; i < NBIT; i++)
    CHECK(sgc_register_weak(&slots_bitleaf[i], slots_bitleaf[i]) == 0);
  clear_stack();

  uint64_t gc0 = num_gc();
  long cb0 = cb_calls;
  for (int r = 0; r < 10; r++) {
    sgc_collect();
    garbage(scaled(8 << 20)); /* also triggers collections by itself */
    check_alive("root callback set");
  }
  clear_stack();
  settle();
  check_alive("root callback set");
  uint64_t gcs = num_gc() - gc0;
  printf("root callback: %ld calls for %llu collections\n", cb_calls - cb0,
         (unsigned long long)gcs);
  /* With the verifier, its full mark after a minor or concurrent
   * collection runs the callback again (spangc.h). */
  int verified = test_verifying();
  CHECKF((uint64_t)(cb_calls - cb0) == gcs ||
             (verified && (uint64_t)(cb_calls - cb0) >= gcs &&
              (uint64_t)(cb_calls - cb0) <= 2 * gcs),
         "the root callback ran %ld times in %llu collections", cb_calls - cb0,
         (unsigned long long)gcs);
  int bit_cleared = 0;
  for (int i = 0; i < NBIT; i++)
    bit_cleared += slots_bitleaf[i] == NULL;
  printf("sgc_set_mark_bit objects: %d of %d leaves collected (not "
         "scanned)\n", bit_cleared, NBIT);
  CHECKF(bit_cleared >= NBIT * 9 / 10, "only %d of %d leaves of objects "
         "marked with sgc_set_mark_bit were collected", bit_cleared, NBIT);

  /* Removed: the pushed objects die. */
  CHECK(sgc_set_root_callback(NULL) == root_cb);
  settle();
  int cleared = 0;
  for (int i = 0; i < NPUSH; i++)
    cleared += slots_pushed[i] == NULL;
  printf("root callback removed: %d of %d objects collected\n", cleared,
         NPUSH);
  CHECKF(cleared >= NPUSH * 9 / 10, "only %d of %d objects collected once "
         "the root callback was removed", cleared, NPUSH);

  /* The collect hook. */
  CHECK(sgc_set_collect_hook(other_hook) == NULL);
  CHECK(sgc_set_collect_hook(hook) == other_hook);
  hook_veto = 1;
  uint64_t before = num_gc();
  garbage(scaled(200l << 20));
  uint64_t after = num_gc();
  printf("collect hook vetoing: %llu collections during 200 MB of garbage, "
         "%ld hook calls\n", (unsigned long long)(after - before), hook_calls);
  CHECKF(after == before, "%llu collections although the hook vetoed them",
         (unsigned long long)(after - before));
  CHECKF(hook_calls > 0 && hook_forced_calls == 0 && hook_stats_ok,
         "hook calls %ld, forced %ld", hook_calls, hook_forced_calls);

  sgc_collect();
  CHECKF(num_gc() == after + 1, "sgc_collect did not collect with the hook "
         "vetoing");
  CHECKF(hook_forced_calls == 1, "sgc_collect called the hook %ld times "
         "with forced set", hook_forced_calls);

  /* A hook returning 0: once per collection. */
  hook_veto = 0;
  hook_calls = hook_forced_calls = 0;
  before = num_gc();
  garbage(scaled(200l << 20));
  sgc_collect();
  after = num_gc();
  printf("collect hook allowing: %llu collections, %ld + %ld hook calls\n",
         (unsigned long long)(after - before), hook_calls,
         hook_forced_calls);
  CHECKF(after - before >= 3, "only %llu collections during 200 MB of "
         "garbage", (unsigned long long)(after - before));
  CHECKF(hook_forced_calls == 1 &&
             (uint64_t)(hook_calls + hook_forced_calls) == after - before,
         "%ld + %ld hook calls for %llu collections", hook_calls,
         hook_forced_calls, (unsigned long long)(after - before));
  CHECK(sgc_set_collect_hook(NULL) == hook);
  return 0;
}
