// labels: gc
/* Pacing bounds the heap.  A program with ~50 MB live (a reachable array
 * of 1 KiB objects, part of it replaced as it runs) that allocates 5 GB
 * keeps its in-use spans (sampled every few thousand allocations) under 3x
 * the live size with the default GOGC of 100; sgc_set_gcpercent(50) gives
 * a lower peak.  sgc_set_max_heap: a program under the limit runs (even
 * with automatic collection disabled: reaching the limit collects), the
 * in-use spans stay under it, and an allocation beyond it returns NULL
 * with errno ENOMEM, only once the live data really fills the limit. */
#include <errno.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define OBJ 1024
#define NLIVE (50L * 1024) /* 50 MiB of 1 KiB objects */
#define SAMPLE 2048

/* The live set hangs from NSUB separate arrays, so that a stale copy of
 * one array's address (conservative scanning) keeps only a small part of
 * it once it is dropped. */
#define NSUB 64
#define PERSUB (NLIVE / NSUB)
void **volatile g_sub[NSUB];
#define LIVE(i) (g_sub[(i) / PERSUB][(i) % PERSUB])

static uint64_t span_bytes(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return st.heap_span_bytes;
}

static void fill(long *p, long tag) {
  p[0] = tag;
  p[OBJ / sizeof(long) - 1] = ~tag;
}

static int intact(const long *p, long tag) {
  return p[0] == tag && p[OBJ / sizeof(long) - 1] == ~tag;
}

/* Allocate 'total' bytes; every 8th object replaces a live one.  Returns
 * the peak of heap_span_bytes, sampled after 'skip' bytes. */
__attribute__((noinline)) static uint64_t run(long total, long skip,
                                              long *tags) {
  uint64_t peak = 0;
  long n = 0;
  for (long done = 0; done < total; done += OBJ, n++) {
    long *p = sgc_alloc(OBJ);
    CHECK(p != NULL);
    if (n % 8 == 0) {
      long i = (n / 8 * 7919) % NLIVE;
      fill(p, ++*tags);
      LIVE(i) = p;
    } else {
      p[0] = n;
    }
    if (n % SAMPLE == 0 && done >= skip) {
      uint64_t b = span_bytes();
      if (b > peak)
        peak = b;
    }
  }
  return peak;
}

__attribute__((noinline)) static void pacing(void) {
  for (int k = 0; k < NSUB; k++) {
    g_sub[k] = sgc_alloc(PERSUB * sizeof(void *));
    CHECK(g_sub[k] != NULL);
  }
  long tags = 0;
  for (long i = 0; i < NLIVE; i++) {
    long *p = sgc_alloc(OBJ);
    CHECK(p != NULL);
    fill(p, ++tags);
    LIVE(i) = p;
  }
  const double live = (double)NLIVE * OBJ;
  sgc_stats st0, st1;

  /* GOGC=50 first: live objects get scattered over the spans as they are
   * replaced, so the in-use spans never shrink back below a peak. */
  sgc_read_stats(&st0);
  CHECK(st0.gcpercent == 100);
  CHECK(sgc_set_gcpercent(50) == 100);
  uint64_t peak50 = run(scaled(2L << 30), 64L << 20, &tags);
  sgc_read_stats(&st1);
  CHECK(st1.gcpercent == 50);
  printf("GOGC=50: %llu collections, peak heap spans %.1f MB for %.1f MB "
         "live (%.2fx)\n", (unsigned long long)(st1.num_gc - st0.num_gc),
         peak50 / 1048576.0, live / 1048576.0, peak50 / live);
  CHECK(st1.num_gc > st0.num_gc);
  CHECKF(peak50 < 2.5 * live, "GOGC=50 peak %.1f MB is 2.5x live or more",
         peak50 / 1048576.0);

  CHECK(sgc_set_gcpercent(100) == 50);
  sgc_read_stats(&st0);
  uint64_t peak100 = run(scaled(5L << 30), 0, &tags);
  sgc_read_stats(&st1);
  printf("GOGC=100: %llu collections, peak heap spans %.1f MB (%.2fx)\n",
         (unsigned long long)(st1.num_gc - st0.num_gc), peak100 / 1048576.0,
         peak100 / live);
  CHECK(st1.num_gc > st0.num_gc);
  CHECKF(peak100 < 3 * live, "peak heap spans %.1f MB, more than 3x the "
         "%.1f MB live", peak100 / 1048576.0, live / 1048576.0);
  CHECKF(st1.last_heap_after >= live, "last collection found %llu bytes "
         "live, fewer than %.0f", (unsigned long long)st1.last_heap_after,
         live);
  CHECKF(peak50 < peak100 * 0.9, "GOGC=50 peak %.1f MB is not below the "
         "GOGC=100 peak %.1f MB", peak50 / 1048576.0, peak100 / 1048576.0);

  /* The live objects are intact: every one carries a distinct tag. */
  for (long i = 0; i < NLIVE; i++) {
    long *p = LIVE(i);
    CHECKF(p[0] > 0 && p[0] <= tags && intact(p, p[0]),
           "live object %ld corrupted", i);
  }
  for (int k = 0; k < NSUB; k++)
    g_sub[k] = NULL;
}

void **volatile g_chain;

/* Keep a chain (from g_chain) until the limit refuses: that must not
 * happen before the live chain itself nearly fills the limit. */
__attribute__((noinline)) static void fill_to_limit(size_t limit) {
  long kept = 0;
  for (;;) {
    errno = 0;
    void **p = sgc_alloc(OBJ);
    if (p == NULL) {
      CHECKF(errno == ENOMEM, "errno %d", errno);
      break;
    }
    p[0] = g_chain;
    g_chain = p;
    kept += OBJ;
    CHECKF(kept <= (long)limit, "kept %ld bytes under a limit of %zu", kept,
           limit);
  }
  CHECKF(span_bytes() <= limit, "heap spans %llu over the limit",
         (unsigned long long)span_bytes());
  printf("refused after %.1f MB kept\n", kept / 1048576.0);
  CHECKF(kept >= (long)limit * 3 / 4, "refused with only %ld bytes live "
         "under a limit of %zu", kept, limit);
  long count = 0;
  for (void **p = g_chain; p; p = p[0])
    count++;
  CHECK(count * OBJ == kept);
}

__attribute__((noinline)) static void hard_limit(void) {
  sgc_stats st0, st1;
  sgc_collect();
  sgc_collect();
  sgc_collect();
  const size_t limit = 64u << 20;
  CHECKF(span_bytes() < limit / 2, "precondition: %llu bytes of spans in "
         "use after dropping everything", (unsigned long long)span_bytes());
  sgc_set_max_heap(limit);
  sgc_disable();
  uint64_t peak = 0;
  /* At least twice the limit at any SPANGC_TEST_SCALE: below the limit
   * nothing needs a collection (at 0.05, 51 MB under 64, none ran). */
  long total = scaled(1L << 30);
  if (total < 2 * (long)limit)
    total = 2 * (long)limit;
  sgc_read_stats(&st0);
  for (long done = 0, n = 0; done < total; done += OBJ, n++) {
    long *p = sgc_alloc(OBJ);
    CHECKF(p != NULL, "allocation failed under the limit after %ld bytes "
           "(errno %d)", done, errno);
    p[0] = n;
    if (n % SAMPLE == 0) {
      uint64_t b = span_bytes();
      if (b > peak)
        peak = b;
    }
  }
  sgc_read_stats(&st1);
  printf("limit %zu MB: %llu collections while disabled, peak %.1f MB\n",
         limit >> 20, (unsigned long long)(st1.num_gc - st0.num_gc),
         peak / 1048576.0);
  CHECKF(peak <= limit, "heap spans %llu over the limit %zu",
         (unsigned long long)peak, limit);
  CHECK(st1.num_gc > st0.num_gc);

  errno = 0;
  void *big = sgc_alloc(2 * limit);
  CHECKF(big == NULL && errno == ENOMEM, "allocating twice the limit: %p, "
         "errno %d", big, errno);

  fill_to_limit(limit);
  /* Cut the links before dropping the chain: a conservative collector may
   * find a stale copy of any one pointer in a register (the ASan build
   * does), and it must not hold 64 MB through the links. */
  for (void **p = g_chain, **next; p; p = next) {
    next = p[0];
    p[0] = NULL;
  }
  g_chain = NULL;
  clear_stack();
  /* Dropping the chain makes room again. */
  sgc_collect();
  sgc_collect();
  void *again = sgc_alloc(limit / 2);
  CHECKF(again != NULL, "half the limit refused after dropping everything");
  sgc_enable();
  sgc_set_max_heap(0);
}

int main(void) {
  sgc_init();
  pacing();
  clear_stack();
  hard_limit();
  return 0;
}
