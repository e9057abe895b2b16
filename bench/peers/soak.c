/* soak.c — the soak workload of tests/stress.c --soak, reduced to what any
   collector's API offers, for an RSS-over-time comparison (issue #21).
   -DUSE_BDWGC (bdwgc's API: Debian's libgc.so.1 or ours), -DUSE_PROJECT.

     soak SECONDS THREADS

   THREADS workers each keep NROOTS trees in a global array (a root) and,
   until SECONDS have passed, replace a random one with a new random tree
   (1..64 objects: 15% 16-47 B, 50% 48-511 B, 23% 512 B-4 KiB, 10.5%
   4-32 KiB, 1.3% 32-288 KiB, 0.2% 288 KiB-3.3 MiB; a third of the leaves
   pointer-free), drop a little garbage, and verify one of their trees.
   A sampler thread reads /proc/self/statm every 0.25 s; with
   SOAK_DUMP=FILE it writes "seconds rss_MB" lines there.  Prints
   "stats: rss_mean_mb=... rss_slope_mb_min=... rss_peak_mb=..." (mean and
   least-squares slope over the samples after the first 20%) and a
   "check:" line (corrupt objects found: must be 0 for every variant). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef USE_BDWGC
#define GC_THREADS
#include <gc.h>
#define ALLOC(n) GC_MALLOC(n)
#define ALLOC_ATOMIC(n) GC_MALLOC_ATOMIC(n)
#define INIT() GC_INIT()
#define THREAD_CREATE(t, f, a) pthread_create(t, NULL, f, a) /* GC_THREADS: GC_pthread_create */
#elif defined(USE_PROJECT)
#include PROJECT_H
#define ALLOC(n) PROJECT_ALLOC(n)
#define ALLOC_ATOMIC(n) PROJECT_ALLOC_ATOMIC(n)
#define INIT() PROJECT_INIT()
#define THREAD_CREATE(t, f, a) PROJECT_THREAD_CREATE(t, f, a)
#endif

#define MAXT 16
#define NROOTS 8
#define MAXCHILD 8
#define MAXDEPTH 10

typedef struct node {
  uint64_t id;
  uint32_t size, nchild;
  uint64_t sum;
  struct node *child[]; /* nchild pointers, then payload */
} node;

static node *roots[MAXT][NROOTS]; /* bss: scanned by every collector */
static double seconds;
static struct timespec t0;
static volatile int stop;
static unsigned long long corrupt[MAXT];

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) * 1e-9;
}
static uint64_t rnd(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1Dull;
}
static size_t pick_size(uint64_t *r) {
  uint32_t k = rnd(r) % 1000;
  if (k < 150) return 16 + rnd(r) % 32;
  if (k < 650) return 48 + rnd(r) % 464;
  if (k < 880) return 512 + rnd(r) % 3584;
  if (k < 985) return 4096 + rnd(r) % (32768 - 4096 + 1);
  if (k < 998) return 32769 + rnd(r) % (256 << 10);
  return (256 << 10) + rnd(r) % (3 << 20);
}
/* The checksum covers the header and the payload's first and last words. */
static uint64_t node_sum(const node *n) {
  const uint64_t *w = (const uint64_t *)n;
  size_t first = 3 + n->nchild, words = n->size / 8;
  uint64_t h = n->id * 0x9e3779b97f4a7c15ull ^ n->size ^ (uint64_t)n->nchild << 32;
  if (words > first) h ^= w[first] * 31 + w[words - 1];
  return h;
}
static node *build(uint64_t *r, int depth, int *budget, uint64_t *ids) {
  (*budget)--;
  size_t size = pick_size(r);
  uint64_t x = rnd(r);
  int leaf = depth >= MAXDEPTH || *budget <= 0 || x % 8 == 0;
  uint32_t nchild = leaf ? 0 : 1 + (uint32_t)((x >> 8) % MAXCHILD);
  if (size < sizeof(node) + nchild * sizeof(node *) + 8)
    size = sizeof(node) + nchild * sizeof(node *) + 8;
  size &= ~(size_t)7;
  node *n = leaf && x % 3 == 0 ? ALLOC_ATOMIC(size) : ALLOC(size);
  if (n == NULL) { fprintf(stderr, "soak: out of memory\n"); exit(1); }
  n->id = ++*ids;
  n->size = (uint32_t)size;
  n->nchild = nchild;
  for (uint32_t i = 0; i < nchild; i++) n->child[i] = NULL;
  uint64_t *w = (uint64_t *)n;
  w[3 + nchild] = n->id ^ 0xa5a5a5a5a5a5a5a5ull;
  w[size / 8 - 1] = n->id * 7;
  n->sum = node_sum(n);
  for (uint32_t i = 0; i < nchild && *budget > 0; i++)
    if (rnd(r) % 4) n->child[i] = build(r, depth + 1, budget, ids);
  return n;
}
static void verify(const node *n, unsigned long long *bad) {
  if (n == NULL) return;
  if (n->sum != node_sum(n)) { (*bad)++; return; }
  for (uint32_t i = 0; i < n->nchild; i++) verify(n->child[i], bad);
}
static void *worker(void *arg) {
  int t = (int)(intptr_t)arg;
  uint64_t r = 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1) | 1, ids = (uint64_t)t << 48;
  while (!stop) {
    for (int it = 0; it < 64; it++) {
      int budget = 1 + (int)(rnd(&r) % 64);
      roots[t][rnd(&r) % NROOTS] = build(&r, 0, &budget, &ids);
      for (int g = (int)(rnd(&r) % 8); g > 0; g--) /* garbage */
        if (ALLOC(48 + rnd(&r) % 2048) == NULL) { fprintf(stderr, "soak: out of memory\n"); exit(1); }
      verify(roots[t][rnd(&r) % NROOTS], &corrupt[t]);
    }
  }
  for (int k = 0; k < NROOTS; k++) verify(roots[t][k], &corrupt[t]);
  return NULL;
}

static double *st, *sr;
static int ns, maxs;
static double rss_mb(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long size = 0, res = 0;
  if (f) { if (fscanf(f, "%lu %lu", &size, &res) != 2) res = 0; fclose(f); }
  return (double)res * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}
/* Every 0.25 s by the clock: a collector's signals cut sleeps short. */
static void *sampler(void *arg) {
  (void)arg;
  for (int i = 1; !stop; i++) {
    if (ns < maxs) { st[ns] = now(); sr[ns] = rss_mb(); ns++; }
    double next = i * 0.25;
    while (!stop && now() < next) usleep(20000);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: soak SECONDS THREADS\n"); return 2; }
  seconds = atof(argv[1]);
  int nt = atoi(argv[2]);
  if (seconds <= 0 || nt < 1 || nt > MAXT) { fprintf(stderr, "soak: bad arguments\n"); return 2; }
  INIT();
  clock_gettime(CLOCK_MONOTONIC, &t0);
  maxs = (int)(seconds * 4) + 16;
  st = malloc(maxs * sizeof *st), sr = malloc(maxs * sizeof *sr);
  if (!st || !sr) return 1;
  pthread_t th[MAXT], sp;
  /* The sampler never touches the heap under test. */
  if (pthread_create(&sp, NULL, sampler, NULL) != 0) return 1;
  for (int t = 0; t < nt; t++)
    if (THREAD_CREATE(&th[t], worker, (void *)(intptr_t)t) != 0) { fprintf(stderr, "soak: thread\n"); return 1; }
  while (now() < seconds) usleep(50000);
  stop = 1;
  for (int t = 0; t < nt; t++) pthread_join(th[t], NULL);
  pthread_join(sp, NULL);
  unsigned long long bad = 0;
  for (int t = 0; t < nt; t++) bad += corrupt[t];
  const char *dump = getenv("SOAK_DUMP");
  FILE *df = dump ? fopen(dump, "w") : NULL;
  double sx = 0, sy = 0, sxx = 0, sxy = 0, peak = 0;
  int k = 0;
  for (int i = 0; i < ns; i++) {
    if (df) fprintf(df, "%.2f %.1f\n", st[i], sr[i]);
    if (sr[i] > peak) peak = sr[i];
    if (st[i] < seconds * 0.2) continue;
    double x = st[i] / 60.0;
    sx += x, sy += sr[i], sxx += x * x, sxy += x * sr[i], k++;
  }
  if (df) fclose(df);
  double d = k * sxx - sx * sx;
  printf("stats: rss_mean_mb=%.1f rss_slope_mb_min=%.2f rss_peak_mb=%.1f samples=%d\n",
         k ? sy / k : 0.0, d > 0 ? (k * sxy - sx * sy) / d : 0.0, peak, ns);
  printf("check: soak %d threads, %llu corrupt objects\n", nt, bad);
  return bad != 0;
}
