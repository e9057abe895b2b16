// labels: heap
/* Releasing a large free span looks at each of its pages about once.
 * Batches are capped at 16 MiB (scavenger.c RELEASE_PAGES), so a span of
 * G GiB is released in 64 G batches; each batch walked the span's free
 * times from its base (sgc_release_memory's pass) or its top (the
 * release down to a memory limit), so the walk was quadratic: 1.3 s for
 * 16 GiB and 12 s for 48 GiB with mheap.lock held (helper-73).  Counted
 * here by mheap.scavenge_walked, for both passes: an untouched 512 MiB
 * object freed (its pages count as free and unreleased) and released. */
#include "check.h"
#include "spangc-int.h"

#define SPAN ((size_t)512 << 20)

static uint64_t walked(void) {
  sgc_lock(&sgc_heap.lock);
  uint64_t n = sgc_heap.scavenge_walked;
  sgc_unlock(&sgc_heap.lock);
  return n;
}

/* Free an untouched SPAN-byte object; its pages are then unreleased. */
static void free_span(void) {
  void *p = sgc_alloc_noscan(SPAN);
  CHECK(p != NULL);
  sgc_free(p);
}

int main(void) {
  sgc_init();
  sgc_disable();
  uint64_t pages = SPAN / PAGE_SIZE;

  /* sgc_release_memory: lowest pages first. */
  free_span();
  sgc_stats s0, s1;
  sgc_read_stats(&s0);
  uint64_t w0 = walked();
  sgc_release_memory();
  uint64_t w = walked() - w0;
  sgc_read_stats(&s1);
  CHECKF(s1.released_total_bytes - s0.released_total_bytes >= SPAN,
         "released %llu bytes of the %zu MiB span",
         (unsigned long long)(s1.released_total_bytes -
                              s0.released_total_bytes), SPAN >> 20);
  printf("sgc_release_memory: %llu pages looked at for a span of %llu\n",
         (unsigned long long)w, (unsigned long long)pages);
  CHECKF(w <= 2 * pages + 4096, "sgc_release_memory looked at %llu pages "
         "of free times for a free span of %llu", (unsigned long long)w,
         (unsigned long long)pages);
  sgc_heap_verify();

  /* A memory limit below what the heap holds: highest pages first. */
  free_span();
  sgc_read_stats(&s0);
  w0 = walked();
  sgc_set_memory_limit(s0.heap_span_bytes + ((size_t)16 << 20));
  w = walked() - w0;
  printf("memory limit: %llu pages looked at for a span of %llu\n",
         (unsigned long long)w, (unsigned long long)pages);
  CHECKF(w <= 2 * pages + 4096, "the release down to a memory limit looked "
         "at %llu pages of free times for a free span of %llu",
         (unsigned long long)w, (unsigned long long)pages);
  sgc_set_memory_limit(0);
  sgc_heap_verify();
  return 0;
}
