/* allocfree — allocator microbenchmark: alloc/free pairs of mixed sizes.
 *
 * Each thread keeps a window of W live objects (its own).  One step
 * allocates an object of a pseudo-random size into a pseudo-random slot of
 * the window, freeing the object that was there; the new object is written
 * (first word, last byte, one byte per 4 KiB page) and the freed one is read
 * back (its first word goes into the check value).  Size mix, from a
 * deterministic xorshift generator seeded per thread:
 *   1 in 1000        large: 64 KiB .. 1 MiB
 *   of the rest 90%  16 .. 512 B
 *               10%  513 B .. 32 KiB
 * The window is first filled (untimed), then P pairs are timed, then the
 * window is freed (untimed).  With T threads the timed phases run together;
 * ns/pair is the wall time of the timed phase divided by P (so it is the
 * time one thread takes per pair: equal figures for 1 and 2 threads mean
 * perfect scaling).
 *
 * One source, one variant per build:
 *   -DV_SPANGC         sgc_alloc + sgc_free
 *   -DV_SPANGC_NOSCAN  sgc_alloc_noscan + sgc_free
 *   -DV_MALLOC         malloc + free (glibc)
 *   -DV_CALLOC         calloc + free (glibc)
 *   -DV_MIMALLOC       mi_malloc + mi_free
 *
 * usage: allocfree [-t THREADS] [-n PAIRS_PER_THREAD] [-w WINDOW]
 * Prints "allocfree ... ns_per_pair=X" and "check: ..." (the check line must
 * be identical for every variant at the same parameters).  The stats line
 * also gives live_peak_mb, the most bytes the windows held at once as
 * requested (each thread's peak, added up: exact with one thread, an upper
 * bound with more), for run.sh's table of peak RSS against live.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(V_SPANGC) || defined(V_SPANGC_NOSCAN)
#include <spangc.h>
#define INIT() sgc_init()
#ifdef V_SPANGC
#define VARIANT "spangc"
#define ALLOC(n) sgc_alloc(n)
#else
#define VARIANT "spangc-noscan"
#define ALLOC(n) sgc_alloc_noscan(n)
#endif
#define FREE(p) sgc_free(p)
#elif defined(V_MALLOC)
#define VARIANT "malloc"
#define INIT() ((void)0)
#define ALLOC(n) malloc(n)
#define FREE(p) free(p)
#elif defined(V_CALLOC)
#define VARIANT "calloc"
#define INIT() ((void)0)
#define ALLOC(n) calloc(1, n)
#define FREE(p) free(p)
#elif defined(V_MIMALLOC)
#include <mimalloc.h>
#define VARIANT "mimalloc"
#define INIT() ((void)0)
#define ALLOC(n) mi_malloc(n)
#define FREE(p) mi_free(p)
#else
#error "define one of V_SPANGC V_SPANGC_NOSCAN V_MALLOC V_CALLOC V_MIMALLOC"
#endif

enum { MAXT = 16, MAXW = 4096 };

/* The windows are globals so that a collector sees them as roots. */
static void *windows[MAXT][MAXW];
static size_t sizes[MAXT][MAXW];

static long npairs = 2000000, wsize = 1000;
static int nthreads = 1;
static pthread_barrier_t start_barrier;

typedef struct {
  int id;
  double t_start, t_end;
  uint64_t check, bytes;
  uint64_t live_peak; /* most bytes the window held at once */
} worker;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static inline uint64_t rnd(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

static inline size_t pick_size(uint64_t r) {
  if (r % 1000 == 0) return 65536 + (size_t)((r >> 20) % (1048576 - 65536 + 1));
  if ((r >> 10) % 100 < 90) return 16 + (size_t)((r >> 20) % 497);
  return 513 + (size_t)((r >> 20) % (32768 - 512));
}

static inline void *make(size_t n, uint64_t tag) {
  unsigned char *p = ALLOC(n);
  if (!p) {
    fprintf(stderr, "allocfree: allocation of %zu bytes failed\n", n);
    exit(1);
  }
  memcpy(p, &tag, sizeof tag);
  for (size_t o = 4096; o < n; o += 4096) p[o] = (unsigned char)tag;
  p[n - 1] = (unsigned char)(tag >> 8);
  return p;
}

static inline uint64_t drop(void *p, size_t n) {
  uint64_t tag;
  memcpy(&tag, p, sizeof tag);
  uint64_t c = tag ^ ((unsigned char *)p)[n - 1];
  FREE(p);
  return c;
}

static void *run(void *arg) {
  worker *w = arg;
  void **win = windows[w->id];
  size_t *sz = sizes[w->id];
  uint64_t s = 0x9E3779B97F4A7C15ull * (uint64_t)(w->id + 1), check = 0, bytes = 0, live = 0, peak;
  for (long i = 0; i < wsize; i++) {
    size_t n = pick_size(rnd(&s));
    win[i] = make(n, (uint64_t)i);
    sz[i] = n;
    live += n;
  }
  peak = live;
  pthread_barrier_wait(&start_barrier);
  w->t_start = now();
  for (long i = 0; i < npairs; i++) {
    uint64_t r = rnd(&s);
    long k = (long)((r >> 33) % (uint64_t)wsize);
    size_t n = pick_size(rnd(&s));
    check = check * 31 + drop(win[k], sz[k]);
    win[k] = make(n, (uint64_t)i * 2654435761u);
    live += n - sz[k];
    if (live > peak) peak = live;
    sz[k] = n;
    bytes += n;
  }
  w->t_end = now();
  for (long i = 0; i < wsize; i++) {
    check = check * 31 + drop(win[i], sz[i]);
    win[i] = NULL;
  }
  w->check = check;
  w->bytes = bytes;
  w->live_peak = peak;
  return NULL;
}

int main(int argc, char **argv) {
  int opt;
  while ((opt = getopt(argc, argv, "t:n:w:")) != -1) {
    switch (opt) {
    case 't': nthreads = atoi(optarg); break;
    case 'n': npairs = atol(optarg); break;
    case 'w': wsize = atol(optarg); break;
    default:
      fprintf(stderr, "usage: allocfree [-t THREADS] [-n PAIRS_PER_THREAD] [-w WINDOW]\n");
      return 2;
    }
  }
  if (nthreads < 1 || nthreads > MAXT || wsize < 1 || wsize > MAXW || npairs < 1) {
    fprintf(stderr, "allocfree: threads 1..%d, window 1..%d, pairs >= 1\n", MAXT, MAXW);
    return 2;
  }
  INIT();
  worker ws[MAXT];
  pthread_t th[MAXT];
  /* with one thread the work runs on the main thread */
  pthread_barrier_init(&start_barrier, NULL, (unsigned)nthreads);
  for (int i = 0; i < nthreads; i++) {
    ws[i] = (worker){.id = i};
    if (nthreads > 1 && pthread_create(&th[i], NULL, run, &ws[i]) != 0) {
      perror("pthread_create");
      return 1;
    }
  }
  if (nthreads == 1)
    run(&ws[0]);
  else
    for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
  double t0 = ws[0].t_start, t1 = 0;
  uint64_t check = 0, bytes = 0, live_peak = 0;
  for (int i = 0; i < nthreads; i++) {
    if (ws[i].t_start < t0) t0 = ws[i].t_start;
    if (ws[i].t_end > t1) t1 = ws[i].t_end;
    check = check * 1000003 + ws[i].check;
    bytes += ws[i].bytes;
    live_peak += ws[i].live_peak;
  }
  double ns = (t1 - t0) * 1e9 / (double)npairs;
  printf("allocfree variant=%s threads=%d pairs_per_thread=%ld window=%ld: %.1f ns per alloc+free pair, %.0f MB allocated\n",
         VARIANT, nthreads, npairs, wsize, ns, bytes / 1e6);
  printf("stats: ns_per_pair=%.2f live_peak_mb=%.2f\n", ns, live_peak / 1048576.0);
  printf("check: threads=%d pairs=%ld window=%ld sum=%016llx bytes=%llu\n", nthreads, npairs, wsize,
         (unsigned long long)check, (unsigned long long)bytes);
  return 0;
}
