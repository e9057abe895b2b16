/* fibers.c — what a fiber costs.
 *
 *   switch:  a round trip (there and back) between two spangc fibers,
 *            against ucontext swapcontext and against a plain (noinline)
 *            function call, median of several runs.
 *   memory:  N fibers (default 100000) each touch 64 KiB of stack once and
 *            go idle; resident memory per fiber before and after a
 *            collection shrinks their stacks.
 *
 * Prints one "key value" line per figure (bench/run.sh reads them).
 * Usage: fibers [nfibers] [switches]                                      */
#include <spangc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static long rss_kb(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
      resident = 0;
    fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
static double median(double *v, int n) {
  qsort(v, n, sizeof *v, cmp);
  return v[n / 2];
}

/* ---- spangc fibers */
static sgc_fiber *main_fiber, *ping;
static volatile long ping_count;
static void ping_fn(void *arg) {
  for (;;) {
    ping_count++;
    sgc_fiber_switch(main_fiber);
  }
}

/* ---- ucontext */
static ucontext_t uc_main, uc_ping;
static void uc_fn(void) {
  for (;;) {
    ping_count++;
    swapcontext(&uc_ping, &uc_main);
  }
}

/* ---- plain call */
__attribute__((noinline)) static void plain(volatile long *c) { (*c)++; }

/* ---- memory */
static sgc_fiber *home;
__attribute__((noinline)) static void touch64k(void) {
  volatile char buf[64 << 10];
  for (size_t i = 0; i < sizeof buf; i += 256)
    buf[i] = (char)i;
}
static void idle_fn(void *arg) {
  touch64k();
  for (;;)
    sgc_fiber_switch(home);
}

int main(int argc, char **argv) {
  long nfibers = argc > 1 ? atol(argv[1]) : 100000;
  long nswitch = argc > 2 ? atol(argv[2]) : 2000000;
  enum { REPS = 5 };
  double t_fiber[REPS], t_uc[REPS], t_call[REPS];
  sgc_init();

  main_fiber = sgc_fiber_self();
  ping = sgc_fiber_create(ping_fn, NULL, 64 << 10);
  static char ucstack[64 << 10];
  getcontext(&uc_ping);
  uc_ping.uc_stack.ss_sp = ucstack;
  uc_ping.uc_stack.ss_size = sizeof ucstack;
  uc_ping.uc_link = NULL;
  makecontext(&uc_ping, uc_fn, 0);
  volatile long c = 0;
  for (int r = 0; r < REPS; r++) {
    double t = now();
    for (long i = 0; i < nswitch; i++)
      sgc_fiber_switch(ping);
    t_fiber[r] = (now() - t) / nswitch * 1e9;
    t = now();
    for (long i = 0; i < nswitch; i++)
      swapcontext(&uc_main, &uc_ping);
    t_uc[r] = (now() - t) / nswitch * 1e9;
    t = now();
    for (long i = 0; i < nswitch * 10; i++)
      plain(&c);
    t_call[r] = (now() - t) / (nswitch * 10) * 1e9;
  }
  double f = median(t_fiber, REPS), u = median(t_uc, REPS),
         p = median(t_call, REPS);
  printf("switch_roundtrip_ns_spangc %.1f\n", f);
  printf("switch_roundtrip_ns_swapcontext %.1f\n", u);
  printf("call_ns_plain %.2f\n", p);
  printf("switch_speedup_vs_swapcontext %.1f\n", u / f);

  home = sgc_fiber_self();
  sgc_disable(); /* no collection (so no shrinking) while they are made */
  long before = rss_kb();
  sgc_fiber **fs = sgc_alloc(nfibers * sizeof *fs);
  for (long i = 0; i < nfibers; i++) {
    fs[i] = sgc_fiber_create(idle_fn, NULL, 128 << 10);
    if (fs[i] == NULL) {
      fprintf(stderr, "fiber %ld: out of memory\n", i);
      return 1;
    }
    sgc_fiber_switch(fs[i]);
  }
  long touched = rss_kb();
  sgc_enable();
  sgc_collect();
  long shrunk = rss_kb();
  sgc_stats st;
  sgc_read_stats(&st);
  long alive = 0; /* uses fs after the collection, so it stays reachable */
  for (long i = 0; i < nfibers; i++)
    alive += !sgc_fiber_finished(fs[i]);
  if (alive != nfibers || st.fibers_live < (uint64_t)nfibers) {
    fprintf(stderr, "only %llu of %ld fibers alive\n",
            (unsigned long long)st.fibers_live, nfibers);
    return 1;
  }
  printf("fibers %ld\n", nfibers);
  printf("idle_fiber_rss_bytes_before_shrink %.0f\n",
         (touched - before) * 1024.0 / nfibers);
  printf("idle_fiber_rss_bytes_after_shrink %.0f\n",
         (shrunk - before) * 1024.0 / nfibers);
  return 0;
}
