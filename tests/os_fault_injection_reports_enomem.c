// labels: heap
// env: SPANGC_FAIL_MMAP=12+
/* When the OS refuses memory (SPANGC_FAIL_MMAP=N+ makes the Nth request,
 * commit or metadata mapping, and every later one fail), an allocation
 * returns NULL with errno ENOMEM instead of crashing: at once while
 * collections are disabled (sgc_disable), after one collection when they
 * are enabled.  The heap is left consistent: once the OS gives memory
 * again later allocations succeed, the heap verifies, objects allocated
 * before are intact.  A single refusal (SPANGC_FAIL_MMAP=N, or here
 * os_fault_injection_set) fails no allocation while collections are
 * enabled: the collection and the second try get past it.  Initialisation makes a few requests; the
 * rest come from the heap growing (every 2 MiB large object below commits
 * new arena and its part of the spans table), so the refused request
 * comes within a bounded number of allocations whatever N is, as long as
 * it is past initialisation.  SPANGC_FAIL_MMAP may be changed to explore
 * other failure points (as N+): the test does not depend on which request
 * fails. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "spangc-int.h"

#define MAXOBJ 400

typedef struct { uint64_t *p; size_t n; } obj;
static obj objs[MAXOBJ];

static uint64_t pat(const obj *o, size_t w) {
  return ((uintptr_t)o->p * 31) ^ (w * 0x9e3779b97f4a7c15ull) ^ o->n;
}

static void fill(obj *o) {
  size_t words = o->n / 8;
  for (size_t w = 0; w < words; w += words > 512 ? 127 : 1)
    o->p[w] = pat(o, w);
  o->p[words - 1] = pat(o, words - 1);
}

static void check_obj(const obj *o, int i) {
  size_t words = o->n / 8;
  for (size_t w = 0; w < words; w += words > 512 ? 127 : 1)
    CHECKF(o->p[w] == pat(o, w), "object %d (%p, %zu bytes) word %zu", i,
           (void *)o->p, o->n, w);
  CHECK(o->p[words - 1] == pat(o, words - 1));
  CHECK(sgc_base(o->p) == o->p);
  CHECK(sgc_size(o->p) >= o->n);
}

/* Sizes: large objects that grow the heap, and small objects of several
 * classes that need new spans (and new span structs) now and then. */
static size_t size_for(int i) {
  switch (i % 4) {
  case 0: return 2 << 20;
  case 1: return 24576;            /* one object per 3-page span */
  case 2: return 300000 + 8192 * (size_t)(i % 7);
  default: return 16384;           /* one object per 2-page span */
  }
}

int main(void) {
  const char *e = getenv("SPANGC_FAIL_MMAP");
  CHECKF(e != NULL && atoi(e) > 0, "run with SPANGC_FAIL_MMAP set");
  sgc_init();
  sgc_disable(); /* no collection: every request below is the heap's */

  int n = 0, failed_at = -1;
  sgc_stats st0, st1;
  for (int i = 0; i < MAXOBJ; i++) {
    size_t sz = size_for(i);
    errno = 0;
    sgc_read_stats(&st0);
    uint64_t *p = (i & 1) ? sgc_alloc_noscan(sz) : sgc_alloc(sz);
    if (p == NULL) {
      CHECKF(errno == ENOMEM, "allocation %d of %zu bytes: NULL with errno "
             "%d", i, sz, errno);
      os_fault_injection_set(0, false); /* the OS gives memory again */
      sgc_read_stats(&st1);
      uint64_t tried = st1.num_gc + st1.collections_abandoned -
                       st0.num_gc - st0.collections_abandoned;
      CHECKF(tried == 0, "allocation %d failed after %llu collections "
             "while collections were disabled", i,
             (unsigned long long)tried);
      CHECKF(failed_at < 0, "allocation %d failed after %d already did: "
             "only one request was made to fail", i, failed_at);
      failed_at = i;
      /* The heap is consistent right after the failure. */
      sgc_heap_verify();
      for (int k = 0; k < n; k++)
        check_obj(&objs[k], k);
      continue;
    }
    objs[n].p = p;
    objs[n].n = sz;
    fill(&objs[n]);
    n++;
    if (failed_at >= 0 && i > failed_at + 40)
      break;
  }
  CHECKF(failed_at >= 0, "no allocation failed in %d with SPANGC_FAIL_MMAP=%s",
         MAXOBJ, e);
  CHECKF(n > failed_at, "no allocation succeeded after the failure");

  for (int k = 0; k < n; k++)
    check_obj(&objs[k], k);
  sgc_heap_verify();

  /* Everything works afterwards: small objects of every class, freeing,
   * reuse, a collection, releasing memory. */
  for (int c = 1; c < NUM_CLASSES; c++) {
    void *p = sgc_alloc(class_to_size[c]);
    CHECKF(p != NULL, "class %d after the failure", c);
    memset(p, 0xab, class_to_size[c]);
    sgc_free(p);
  }
  for (int k = 0; k < n; k += 2) {
    sgc_free(objs[k].p);
    objs[k].p = NULL;
  }
  for (int k = 0; k < n; k += 2) {
    objs[k].p = sgc_alloc(objs[k].n);
    CHECK(objs[k].p != NULL);
    fill(&objs[k]);
  }
  sgc_enable();
  sgc_collect();
  sgc_disable();
  for (int k = 0; k < n; k++)
    check_obj(&objs[k], k);
  /* Collections enabled.  Memory gone for good: a large object that
   * grows the heap fails after one collection (abandoned, perhaps: it
   * needs memory too).  One refusal: got past with one collection. */
  sgc_enable();
  sgc_read_stats(&st0);
  os_fault_injection_set(os_requests() + 1, true);
  errno = 0;
  void *none = sgc_alloc_noscan((size_t)64 << 20);
  int none_errno = errno;
  os_fault_injection_set(0, false);
  sgc_read_stats(&st1);
  CHECKF(none == NULL && none_errno == ENOMEM,
         "with memory gone: %p, errno %d", none, none_errno);
  uint64_t tried = st1.num_gc + st1.collections_abandoned - st0.num_gc -
                   st0.collections_abandoned;
  CHECKF(tried == 1, "%llu collections before failing, not one",
         (unsigned long long)tried);
  sgc_read_stats(&st0);
  os_fault_injection_set(os_requests() + 1, false);
  void *big = sgc_alloc_noscan((size_t)64 << 20);
  sgc_read_stats(&st1);
  CHECKF(big != NULL, "a single refusal failed an allocation (errno %d)",
         errno);
  CHECKF(st1.num_gc - st0.num_gc == 1,
         "%llu collections to get past a single refusal, not one",
         (unsigned long long)(st1.num_gc - st0.num_gc));
  sgc_disable();
  sgc_stats st;
  sgc_read_stats(&st);
  CHECK(st.heap_released_bytes <= st.heap_idle_bytes);
  CHECK(st.sys_bytes == st.heap_span_bytes + st.heap_idle_bytes +
                            st.meta_bytes);
  printf("SPANGC_FAIL_MMAP=%s: allocation %d failed with ENOMEM; %d objects "
         "intact\n", e, failed_at, n);
  return 0;
}
