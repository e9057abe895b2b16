/* shrink — memory back to the OS when the live heap shrinks (issue 15).
 *
 *   shrink LIVE_MB SECONDS
 *
 * Builds LIVE_MB of 8 KiB objects held by one root array, collects, then
 * drops nine in ten objects and keeps allocating about 20 MB/s of
 * short-lived garbage (plus a few replacements) for SECONDS.  Every 50 ms
 * it prints a sample "t_ms rss_mb live_mb" (the process's RSS from
 * /proc/self/status; live: what the last collection found live, from
 * sgc_stats, with bdwgc GC_get_heap_size - GC_get_free_bytes); t is from
 * the drop.  Then a "check:" line (independent of the collector) and a
 * "stats:" line: RSS before the drop, at the end, and the time from the
 * drop until RSS stayed under the bound, -1 if never: 250 MB at 1 GB
 * (issue 15), LIVE_MB * 250/1024 at other sizes, but at least
 * LIVE_MB/10 + 40 (the fixed costs of a small process).
 *
 * Build: gcc -O2 shrink.c $(pkg-config --cflags --libs spangc)   spangc's API
 *        gcc -O2 -DUSE_BDWGC shrink.c -lgc                        bdwgc
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef USE_BDWGC
#include <gc.h>
#define INIT() GC_INIT()
#define ALLOC_ATOMIC(n) GC_MALLOC_ATOMIC(n)
#define ADD_ROOTS(lo, hi) GC_add_roots(lo, hi)
#define COLLECT() GC_gcollect()
static double live_mb(void) {
  return (double)(GC_get_heap_size() - GC_get_free_bytes()) / 1048576;
}
#else
#include <spangc.h>
#define INIT() sgc_init()
#define ALLOC_ATOMIC(n) sgc_alloc_noscan(n)
#define ADD_ROOTS(lo, hi) sgc_add_roots(lo, hi)
#define COLLECT() sgc_collect()
static double live_mb(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return (double)st.last_heap_after / 1048576;
}
#endif

#define OBJ 8192

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rss_mb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double v = 0;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0)
      v = (double)strtoull(line + 6, NULL, 10) / 1024;
  if (f)
    fclose(f);
  return v;
}

int main(int argc, char **argv) {
  long live = argc > 1 ? atol(argv[1]) : 1024;
  double secs = argc > 2 ? atof(argv[2]) : 3;
  if (live < 16 || secs <= 0) {
    fprintf(stderr, "usage: shrink LIVE_MB SECONDS\n");
    return 2;
  }
  INIT();
  size_t n = (size_t)live * 1048576 / OBJ;
  void **slots = calloc(n, sizeof *slots);
  if (slots == NULL)
    return 1;
  ADD_ROOTS(slots, slots + n);
  for (size_t i = 0; i < n; i++) {
    slots[i] = ALLOC_ATOMIC(OBJ);
    if (slots[i] == NULL)
      return 1;
    memset(slots[i], (int)(i & 0x7f), OBJ);
  }
  COLLECT();
  double before = rss_mb();
  /* The drop: nine in ten go. */
  for (size_t i = 0; i < n; i++)
    if (i % 10 != 0)
      slots[i] = NULL;
  double limit = (double)live * 250 / 1024;
  if (limit < (double)live / 10 + 40)
    limit = (double)live / 10 + 40;
  double t0 = now_s(), next = 0, under_since = -1;
  uint64_t sum = 0, made = 0;
  for (;;) {
    double t = now_s() - t0;
    if (t >= secs)
      break;
    /* ~20 MB/s: 1 MiB of garbage every 50 ms, in 8 KiB objects. */
    if (t >= next) {
      double r = rss_mb();
      printf("%.0f %.1f %.1f\n", t * 1000, r, live_mb());
      if (r <= limit) {
        if (under_since < 0)
          under_since = t;
      } else {
        under_since = -1;
      }
      for (int k = 0; k < 128; k++) {
        unsigned char *g = ALLOC_ATOMIC(OBJ);
        if (g == NULL)
          return 1;
        g[0] = (unsigned char)made;
        g[OBJ - 1] = (unsigned char)(made >> 8);
        sum += g[0] + g[OBJ - 1];
        made++;
      }
      next += 0.05;
    }
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  double after = rss_mb();
  uint64_t kept = 0;
  for (size_t i = 0; i < n; i += 10)
    kept += ((unsigned char *)slots[i])[OBJ / 2];
  printf("check: kept=%llu\n", (unsigned long long)kept);
  printf("stats: rss_before_mb=%.1f rss_end_mb=%.1f under_s=%.2f limit_mb=%.0f "
         "garbage_objects=%llu\n", before, after, under_since, limit,
         (unsigned long long)made);
  (void)sum;
  return 0;
}
