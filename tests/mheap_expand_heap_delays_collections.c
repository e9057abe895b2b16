// labels: mheap gc
/* sgc_expand_heap, sgc_is_heap_ptr, sgc_collect_a_little.
 *  - sgc_expand_heap(64 MiB) returns 0 and the heap grows by at least
 *    that much (sys_bytes and heap_idle_bytes in sgc_read_stats); then
 *    32 MiB of garbage trigger fewer collections than in a process that
 *    did not expand (each case runs in a fresh child process: the parent
 *    compares their counts of num_gc); 0 bytes is a no-op (0); a size
 *    beyond the arena gives ENOMEM.
 *  - sgc_is_heap_ptr is nonzero for objects (base and interior, small and
 *    large), for a free slot of an in-use span and for an object freed
 *    with sgc_free; zero for NULL, stack, static and malloc'ed addresses,
 *    and for the pages of a freed large object.
 *  - sgc_collect_a_little, called after a collection left the heap
 *    unswept, returns 0 once everything is swept (within a bounded number
 *    of calls), and right after sgc_collect (which sweeps completely). */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define MiB ((size_t)1 << 20)

__attribute__((noinline)) static void garbage(size_t bytes) {
  for (size_t done = 0; done < bytes; done += 512) {
    char *p = sgc_alloc(512);
    CHECK(p != NULL);
    p[0] = 1;
  }
}

/* Child: allocate 32 MiB of garbage, optionally after expanding; report
 * the collections on stderr. */
static int child(int expand) {
  sgc_init();
  sgc_stats a, b;
  sgc_read_stats(&a);
  if (expand) {
    CHECK(sgc_expand_heap(64 * MiB) == 0);
    sgc_read_stats(&b);
    CHECKF(b.sys_bytes >= a.sys_bytes + 64 * MiB, "sys_bytes %llu -> %llu "
           "after sgc_expand_heap(64 MiB)", (unsigned long long)a.sys_bytes,
           (unsigned long long)b.sys_bytes);
    CHECKF(b.heap_idle_bytes >= a.heap_idle_bytes + 64 * MiB,
           "heap_idle_bytes %llu -> %llu after sgc_expand_heap(64 MiB)",
           (unsigned long long)a.heap_idle_bytes,
           (unsigned long long)b.heap_idle_bytes);
    a = b;
  }
  garbage(32 * MiB);
  sgc_read_stats(&b);
  fprintf(stderr, "collections=%llu\n",
          (unsigned long long)(b.num_gc - a.num_gc));
  return 0;
}

static long run_child(const char *self, const char *mode) {
  char out[4096];
  int status = run_self(self, mode, out, sizeof out);
  CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "child %s: status %#x, output:\n%s", mode, status, out);
  const char *p = strstr(out, "collections=");
  CHECKF(p != NULL, "child %s said:\n%s", mode, out);
  return atol(p + strlen("collections="));
}

static int static_word;

static void heap_ptr_cases(void) {
  /* A class nothing else here uses, so its span is fresh: one object
   * allocated, the other slots free. */
  char *p = sgc_alloc(3000);
  CHECK(p != NULL);
  mspan *s = mheap_lookup((uintptr_t)p);
  CHECK(s != NULL && s->nelems > 1);
  char *free_slot = NULL;
  for (uint32_t i = 0; i < s->nelems && free_slot == NULL; i++) {
    char *q = (char *)(s->base + (uintptr_t)i * s->elemsize);
    if (q != p && sgc_base(q) == NULL)
      free_slot = q;
  }
  CHECKF(free_slot != NULL, "no free slot in the span of %p", (void *)p);
  CHECK(sgc_is_heap_ptr(p) && sgc_is_heap_ptr(p + 2999));
  CHECKF(sgc_is_heap_ptr(free_slot) && sgc_is_heap_ptr(free_slot + 7),
         "a free slot of an in-use span is not a heap pointer");
  char *big = sgc_alloc(100000);
  CHECK(big != NULL);
  CHECK(sgc_is_heap_ptr(big) && sgc_is_heap_ptr(big + 99999));
  void *freed = sgc_alloc(64);
  CHECK(freed != NULL);
  sgc_free(freed);
  CHECK(sgc_is_heap_ptr(freed));

  int local = 0;
  void *m = malloc(64);
  CHECK(m != NULL);
  CHECK(!sgc_is_heap_ptr(NULL));
  CHECK(!sgc_is_heap_ptr(&local));
  CHECK(!sgc_is_heap_ptr(&static_word));
  CHECK(!sgc_is_heap_ptr(m));
  CHECK(!sgc_is_heap_ptr((void *)(uintptr_t)1));
  free(m);
  void *lo, *hi;
  sgc_heap_bounds(&lo, &hi);
  CHECK((char *)lo <= p && p < (char *)hi);
  CHECK((char *)lo <= big && big < (char *)hi);
  CHECK(!sgc_is_heap_ptr((char *)hi - 8)); /* reserved, never used */

  /* A freed large object's pages leave the in-use spans. */
  sgc_free(big);
  CHECKF(!sgc_is_heap_ptr(big) && !sgc_is_heap_ptr(big + 50000),
         "the pages of a freed large object are still a heap pointer");
}

int main(int argc, char **argv) {
  if (argc > 1)
    return child(strcmp(argv[1], "expand") == 0);
  sgc_init();
  heap_ptr_cases();

  CHECK(sgc_expand_heap(0) == 0);
  CHECK(sgc_expand_heap((size_t)1 << 62) == ENOMEM);

  long base = run_child(argv[0], "plain");
  long expanded = run_child(argv[0], "expand");
  printf("32 MiB of garbage: %ld collections, %ld after sgc_expand_heap(64 "
         "MiB)\n", base, expanded);
  CHECKF(base >= 2, "only %ld collections for 32 MiB of garbage", base);
  CHECKF(expanded < base, "%ld collections after sgc_expand_heap, %ld "
         "without", expanded, base);

  /* sgc_collect_a_little. */
  sgc_collect();
  CHECKF(sgc_collect_a_little() == 0, "sgc_collect_a_little() != 0 right "
         "after sgc_collect");
  long busy = 0, calls = 0;
  for (int rep = 0; rep < 5; rep++) {
    /* A heap of many spans, left unswept by an automatic collection. */
    sgc_stats st;
    sgc_read_stats(&st);
    uint64_t gc0 = st.num_gc;
    do {
      garbage(MiB);
      sgc_read_stats(&st);
    } while (st.num_gc == gc0);
    int r;
    while ((r = sgc_collect_a_little()) != 0) {
      busy++;
      CHECKF(++calls < 1000000, "sgc_collect_a_little never returns 0");
    }
    CHECK(sgc_collect_a_little() == 0);
  }
  printf("sgc_collect_a_little: returned nonzero %ld times before the "
         "sweeps were done\n", busy);
  return 0;
}
