/* GC latency (after the "message window" benchmark): keep a window of W messages of
   S bytes live, push N messages, report the worst time one push took.
   argv: W S N scanned(0|1)
   -DUSE_BDWGC (add -DBDWGC_MARKERS to start bdwgc's parallel markers), -DUSE_PROJECT,
   -DUSE_MALLOC (malloc/free: the evicted message is freed), -DUSE_MIMALLOC (mi_* likewise).
   bench/ additions: every push's latency is recorded (a float array from the C library's
   malloc, pre-touched, outside the heap under test) to print the 99th and 99.9th
   percentiles; with PAUSE_DUMP=FILE the exceedance curve (fraction of pushes slower than x,
   latency x in ms, about 1500 log-spaced points) is written to FILE for plotting; with
   PAUSE_HIST=FILE the histogram of the latencies in log-spaced bins (20 a decade, from 10 ns:
   lines "k lo_ms hi_ms count", nonempty bins only, the same bins in every run, so run.sh can
   add runs up); a "check:" line sums the first byte of every message left in the window. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef USE_BDWGC
#include <gc.h>
#define ALLOC(n) GC_MALLOC(n)
#define ALLOC_ATOMIC(n) GC_MALLOC_ATOMIC(n)
#define FREE(p) ((void)0)
#ifdef BDWGC_MARKERS
#define INIT() do { GC_INIT(); GC_start_mark_threads(); } while (0)
#else
#define INIT() GC_INIT()
#endif
#elif defined(USE_PROJECT)
#include PROJECT_H
#define ALLOC(n) PROJECT_ALLOC(n)
#define ALLOC_ATOMIC(n) PROJECT_ALLOC_ATOMIC(n)
#define FREE(p) ((void)0)
#define INIT() PROJECT_INIT()
#elif defined(USE_MALLOC)
#define ALLOC(n) calloc(1, n) /* cleared, like GC_MALLOC */
#define ALLOC_ATOMIC(n) malloc(n)
#define FREE(p) free(p)
#define INIT() ((void)0)
#elif defined(USE_MIMALLOC)
#include <mimalloc.h>
#define ALLOC(n) mi_calloc(1, n)
#define ALLOC_ATOMIC(n) mi_malloc(n)
#define FREE(p) mi_free(p)
#define INIT() ((void)0)
#endif
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int desc(const void *a, const void *b) { float x = *(const float *)a, y = *(const float *)b; return (x < y) - (x > y); }
int main(int argc, char **argv) {
  INIT();
  long W = argc > 1 ? atol(argv[1]) : 200000, S = argc > 2 ? atol(argv[2]) : 1024, N = argc > 3 ? atol(argv[3]) : 1000000;
  int scanned = argc > 4 ? atoi(argv[4]) : 1;
  float *lat = malloc(sizeof(float) * (size_t)N);
  if (!lat) { perror("pause: latency array"); return 1; }
  memset(lat, 0, sizeof(float) * (size_t)N);
  char **win = ALLOC(sizeof(char *) * W);
  double worst = 0, t0 = now(); long slow = 0;
  for (long i = 0; i < N; i++) {
    double t = now();
    char *m = scanned ? ALLOC(S) : ALLOC_ATOMIC(S);
    memset(m, (int)(i & 0xff), S);
    FREE(win[i % W]);
    win[i % W] = m;
    double d = now() - t;
    lat[i] = (float)d;
    if (d > worst) worst = d;
    if (d > 1.0) slow++;
  }
  double total = now() - t0;
  printf("window %ld x %ld B, %ld pushes: worst push %.2f ms, pushes over 1 ms %ld, total %.0f ms\n", W, S, N, worst, slow, total);
  long sum = 0;
  for (long j = 0; j < W; j++) if (win[j]) sum += (unsigned char)win[j][0];
  qsort(lat, (size_t)N, sizeof *lat, desc);
  double p50 = lat[N / 2], p99 = lat[N / 100], p999 = lat[N / 1000];
  printf("stats: worst_ms=%.3f over_1ms=%ld p50_ms=%.5f p99_ms=%.4f p999_ms=%.4f total_ms=%.0f\n", worst, slow, p50, p99, p999, total);
  printf("check: window %ld x %ld B, %ld pushes, sum %ld\n", W, S, N, sum);
  const char *dump = getenv("PAUSE_DUMP");
  if (dump && *dump) {
    FILE *f = fopen(dump, "w");
    if (!f) { perror(dump); return 1; }
    fprintf(f, "# fraction_of_pushes_slower latency_ms (W=%ld S=%ld N=%ld scanned=%d)\n", W, S, N, scanned);
    for (long k = 1; k <= N; k = k * 1.01 > k + 1 ? (long)(k * 1.01) : k + 1)
      fprintf(f, "%.9g %.6g\n", (double)k / N, lat[k - 1]);
    fclose(f);
  }
  const char *hist = getenv("PAUSE_HIST");
  if (hist && *hist) {
    FILE *f = fopen(hist, "w");
    if (!f) { perror(hist); return 1; }
    fprintf(f, "# k lo_ms hi_ms count (bin k: [1e-5 * 10^(k/20), 1e-5 * 10^((k+1)/20)) ms; W=%ld S=%ld N=%ld scanned=%d)\n", W, S, N, scanned);
    /* lat is sorted slowest first: walk it from the fast end, bin by bin
       (edges by repeated multiplication: no libm, and the same in every run) */
    long j = N - 1;
    double lo = 1e-5, step = 1.1220184543019634; /* 10^(1/20) */
    long below = 0;
    while (j >= 0 && lat[j] < lo) { below++; j--; }
    if (below) fprintf(f, "-1 0 %.6g %ld\n", lo, below);
    for (int k = 0; j >= 0; k++) {
      double hi = k == 199 ? 1e300 : lo * step; /* the last bin takes everything from 1e5 ms */
      long c = 0;
      while (j >= 0 && lat[j] < hi) { c++; j--; }
      if (c) fprintf(f, "%d %.6g %.6g %ld\n", k, lo, hi == 1e300 ? lo * step : hi, c);
      lo = hi;
    }
    fclose(f);
  }
  return 0;
}
