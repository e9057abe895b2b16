// labels: heap
/* sgc_read_stats agrees with what the program did: allocating N objects
 * of a class adds N to that class's nmalloc and objects and N * size to
 * heap_inuse_bytes; freeing them takes them away again; large objects are
 * counted in class 0; counts survive the exit of the allocating thread;
 * and the heap figures obey their definitions (in-use bytes fit in the
 * spans, heap pages plus metadata make sys_bytes, released pages are idle
 * pages). */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "spangc-int.h"

#define N 1000
#define L 20
#define LSIZE 100000

static void *objs[N];
static void *large[L];

typedef unsigned long long ull;

static void check_invariants(const sgc_stats *s) {
  uint64_t live = 0, allocs = 0, frees = 0;
  for (int c = 0; c < NUM_CLASSES; c++) {
    const sgc_class_stats *k = &s->by_class[c];
    CHECKF(k->objects == k->nmalloc - k->nfree, "class %d: %llu != %llu-%llu",
           c, (ull)k->objects, (ull)k->nmalloc, (ull)k->nfree);
    CHECKF(k->nfree <= k->nmalloc, "class %d", c);
    live += k->objects;
    allocs += k->nmalloc;
    frees += k->nfree;
  }
  CHECKF(s->live_objects == live, "live %llu, classes %llu",
         (ull)s->live_objects, (ull)live);
  CHECK(s->total_allocs == allocs);
  CHECK(s->total_frees == frees);
  CHECK(s->large_allocs == s->by_class[0].nmalloc);
  CHECK(s->large_objects == s->by_class[0].objects);
  CHECKF(s->heap_inuse_bytes <= s->heap_span_bytes, "inuse %llu spans %llu",
         (ull)s->heap_inuse_bytes, (ull)s->heap_span_bytes);
  CHECKF(s->heap_released_bytes <= s->heap_idle_bytes,
         "released %llu idle %llu", (ull)s->heap_released_bytes,
         (ull)s->heap_idle_bytes);
  CHECK(s->meta_bytes > 0 && s->meta_bytes <= s->sys_bytes);
  CHECKF(s->sys_bytes == s->heap_span_bytes + s->heap_idle_bytes +
                             s->meta_bytes,
         "sys %llu != spans %llu + idle %llu + meta %llu", (ull)s->sys_bytes,
         (ull)s->heap_span_bytes, (ull)s->heap_idle_bytes,
         (ull)s->meta_bytes);
  CHECK(s->heap_span_bytes % PAGE_SIZE == 0);
  CHECK(s->heap_idle_bytes % PAGE_SIZE == 0);
  CHECKF(s->spans_inuse * PAGE_SIZE <= s->heap_span_bytes, "%llu spans",
         (ull)s->spans_inuse);
  CHECK(s->total_alloc_bytes >= s->heap_inuse_bytes);
}

static void *thread_allocs(void *arg) {
  size_t size = (size_t)(uintptr_t)arg;
  for (int i = 0; i < N; i++)
    objs[i] = sgc_alloc(size);
  return NULL;
}

int main(void) {
  sgc_init();
  sgc_disable();
  sgc_stats a, b, c;
  int cls = size_to_class(208);
  size_t size = class_to_size[cls];
  CHECK(size == 208);

  sgc_read_stats(&a);
  check_invariants(&a);
  for (int i = 0; i < N; i++) {
    objs[i] = sgc_alloc(200);
    CHECK(objs[i] != NULL);
  }
  sgc_read_stats(&b);
  check_invariants(&b);
  CHECK(b.by_class[cls].size == size);
  CHECK(b.spans_inuse > 0);
  CHECKF(b.by_class[cls].nmalloc == a.by_class[cls].nmalloc + N, "%llu %llu",
         (ull)a.by_class[cls].nmalloc, (ull)b.by_class[cls].nmalloc);
  CHECK(b.by_class[cls].objects == a.by_class[cls].objects + N);
  CHECK(b.by_class[cls].nfree == a.by_class[cls].nfree);
  CHECK(b.live_objects == a.live_objects + N);
  CHECK(b.total_allocs == a.total_allocs + N);
  CHECKF(b.heap_inuse_bytes == a.heap_inuse_bytes + N * size,
         "inuse %llu -> %llu", (ull)a.heap_inuse_bytes,
         (ull)b.heap_inuse_bytes);
  CHECK(b.total_alloc_bytes == a.total_alloc_bytes + N * size);
  CHECKF(b.heap_span_bytes >= a.heap_span_bytes + N * size,
         "span bytes %llu -> %llu", (ull)a.heap_span_bytes,
         (ull)b.heap_span_bytes);
  uint64_t per_span = class_to_npages[cls] * PAGE_SIZE / size;
  uint64_t spans_needed = (N + per_span - 1) / per_span;
  CHECKF(b.spans_inuse >= a.spans_inuse + spans_needed - 1,
         "spans in use %llu -> %llu for %llu spans' worth", (ull)a.spans_inuse,
         (ull)b.spans_inuse, (ull)spans_needed);
  for (int k = 0; k < NUM_CLASSES; k++)
    if (k != cls)
      CHECKF(b.by_class[k].nmalloc == a.by_class[k].nmalloc,
             "class %d moved", k);

  /* Large objects: class 0, whole pages. */
  size_t lpages = (LSIZE + PAGE_SIZE - 1) / PAGE_SIZE;
  for (int i = 0; i < L; i++) {
    large[i] = (i & 1) ? sgc_alloc_noscan(LSIZE) : sgc_alloc(LSIZE);
    CHECK(large[i] != NULL);
    CHECK(sgc_size(large[i]) == lpages * PAGE_SIZE);
  }
  sgc_read_stats(&c);
  check_invariants(&c);
  CHECK(c.by_class[0].size == 0);
  CHECK(c.by_class[0].nmalloc == b.by_class[0].nmalloc + L);
  CHECK(c.by_class[0].objects == b.by_class[0].objects + L);
  CHECK(c.large_objects == b.large_objects + L);
  CHECK(c.large_allocs == b.large_allocs + L);
  CHECK(c.live_objects == b.live_objects + L);
  CHECKF(c.heap_inuse_bytes == b.heap_inuse_bytes + L * lpages * PAGE_SIZE,
         "%llu -> %llu", (ull)b.heap_inuse_bytes, (ull)c.heap_inuse_bytes);
  CHECK(c.heap_span_bytes == b.heap_span_bytes + L * lpages * PAGE_SIZE);
  CHECK(c.spans_inuse == b.spans_inuse + L);
  CHECK(c.by_class[cls].objects == b.by_class[cls].objects);

  /* Free them all. */
  for (int i = 0; i < N; i++)
    sgc_free(objs[i]);
  for (int i = 0; i < L; i++)
    sgc_free(large[i]);
  sgc_read_stats(&b);
  check_invariants(&b);
  CHECK(b.by_class[cls].objects == a.by_class[cls].objects);
  CHECK(b.by_class[cls].nfree == c.by_class[cls].nfree + N);
  CHECK(b.by_class[cls].nmalloc == c.by_class[cls].nmalloc);
  CHECK(b.by_class[0].objects == c.by_class[0].objects - L);
  CHECK(b.by_class[0].nfree == c.by_class[0].nfree + L);
  CHECK(b.large_objects == c.large_objects - L);
  CHECK(b.live_objects == c.live_objects - N - L);
  CHECK(b.total_frees == c.total_frees + N + L);
  CHECK(b.total_allocs == c.total_allocs);
  CHECKF(b.heap_inuse_bytes ==
             c.heap_inuse_bytes - N * size - L * lpages * PAGE_SIZE,
         "%llu -> %llu", (ull)c.heap_inuse_bytes, (ull)b.heap_inuse_bytes);
  /* Large spans went back to the heap: idle pages. */
  CHECK(b.heap_span_bytes == c.heap_span_bytes - L * lpages * PAGE_SIZE);
  CHECK(b.heap_idle_bytes >= c.heap_idle_bytes + L * lpages * PAGE_SIZE);
  CHECK(b.spans_inuse == c.spans_inuse - L);

  /* Reuse of freed objects counts as allocation again. */
  for (int i = 0; i < N; i++)
    objs[i] = sgc_alloc(200);
  sgc_read_stats(&c);
  check_invariants(&c);
  CHECK(c.by_class[cls].nmalloc == b.by_class[cls].nmalloc + N);
  CHECK(c.by_class[cls].objects == b.by_class[cls].objects + N);
  CHECK(c.heap_inuse_bytes == b.heap_inuse_bytes + N * size);
  for (int i = 0; i < N; i++)
    sgc_free(objs[i]);

  /* A thread's counts outlive it. */
  int cls2 = size_to_class(3000);
  size_t size2 = class_to_size[cls2];
  sgc_read_stats(&a);
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, thread_allocs,
                           (void *)(uintptr_t)size2) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  sgc_read_stats(&b);
  check_invariants(&b);
  CHECKF(b.by_class[cls2].nmalloc == a.by_class[cls2].nmalloc + N,
         "%llu -> %llu after the thread exited",
         (ull)a.by_class[cls2].nmalloc, (ull)b.by_class[cls2].nmalloc);
  CHECK(b.by_class[cls2].objects == a.by_class[cls2].objects + N);
  CHECK(b.heap_inuse_bytes >= a.heap_inuse_bytes + N * size2);
  for (int i = 0; i < N; i++)
    sgc_free(objs[i]);
  sgc_read_stats(&c);
  check_invariants(&c);
  CHECK(c.by_class[cls2].objects == a.by_class[cls2].objects);

  /* Released pages are counted, and are idle pages. */
  size_t rel = sgc_release_memory();
  sgc_read_stats(&a);
  check_invariants(&a);
  CHECK(rel > 0);
  CHECK(a.heap_released_bytes >= rel);
  CHECK(a.heap_released_bytes <= a.heap_idle_bytes);
  sgc_heap_verify();
  printf("stats consistent: %llu objects live, %llu KiB in spans\n",
         (ull)a.live_objects, (ull)(a.heap_span_bytes >> 10));
  return 0;
}
