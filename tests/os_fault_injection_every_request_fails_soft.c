// labels: heap threads
/* Out of memory is reported, never an abort: a small threaded program
 * (threads allocating and checking lists, explicit frees, finalizers,
 * uncollectable objects, weak slots, collections) runs once to count the
 * requests for memory it makes, then once per request with that request
 * refused (SPANGC_FAIL_MMAP=N, in a child process each), and once per request
 * with memory running out there for good (N+: that request and every
 * later one refused; each failing allocation collects first).  Every run
 * must end normally, within its time, with its data intact and a heap
 * that verifies; allocations may return NULL (ENOMEM), and the program retries
 * or skips them.  Skipped with SPANGC_DEBUG=verify=1, where a refused
 * request for the verifier's tables ends the process by design (spangc.h,
 * sgc_init). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

typedef struct node {
  struct node *next;
  uint64_t v;
} node;

static int nfinalized;
static void on_finalize(void *obj, void *arg) {
  __atomic_add_fetch(&nfinalized, 1, __ATOMIC_RELAXED);
}

/* A list of n nodes, built with retries; NULL if memory ran out. */
static node *build(int n, uint64_t seed) {
  node *head = NULL;
  for (int i = 0; i < n; i++) {
    node *x = NULL;
    for (int tries = 0; tries < 3 && x == NULL; tries++)
      x = sgc_alloc(sizeof *x + (size_t)(i % 7) * 24);
    if (x == NULL)
      return head;
    x->v = seed * 1000003u + (uint64_t)i;
    x->next = head;
    head = x;
  }
  return head;
}

static void check_list(const node *l, uint64_t seed) {
  for (; l; l = l->next)
    CHECKF((l->v - (uint64_t)0) / 1 >= seed * 1000003u &&
               l->v < seed * 1000003u + 100000u,
           "list %llu: node %p holds %llu", (unsigned long long)seed,
           (const void *)l, (unsigned long long)l->v);
}

static void *worker(void *arg) {
  uint64_t seed = (uint64_t)(uintptr_t)arg;
  for (int round = 0; round < 4; round++) {
    node *keep = build(2000, seed);
    node *junk = build(3000, seed + 100);
    for (node *j = junk; j;) { /* explicit frees */
      node *next = j->next;
      sgc_free(j);
      j = next;
    }
    void *f = sgc_alloc(64);
    if (f)
      sgc_set_finalizer(f, on_finalize, NULL);
    /* Its span's rare bitmaps are a request of their own. */
    uint64_t *u = sgc_alloc_uncollectable(48);
    if (u) {
      CHECK(sgc_is_uncollectable(u));
      sgc_free(u);
    }
    void **slot = malloc(sizeof *slot);
    if (slot && f && sgc_register_weak(slot, f) != 0) {
      free(slot);
      slot = NULL;
    }
    void *big = sgc_alloc(100000);
    (void)big;
    check_list(keep, seed);
    if (slot) {
      sgc_unregister_weak(slot);
      free(slot);
    }
  }
  return NULL;
}

static int run_program(void) {
  alarm(30); /* a hang fails the run */
  sgc_init();
  pthread_t t[3];
  int started = 0;
  for (int i = 0; i < 3; i++)
    if (sgc_pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)) ==
        0)
      started++;
    else
      break;
  worker((void *)(uintptr_t)9);
  sgc_collect();
  sgc_enter_blocking();
  for (int i = 0; i < started; i++)
    pthread_join(t[i], NULL);
  sgc_exit_blocking();
  sgc_collect();
  sgc_run_finalizers();
  sgc_heap_verify();
  fprintf(stderr, "requests=%llu\n", (unsigned long long)os_requests());
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1)
    return run_program();
  if (test_verifying()) {
    printf("skipped: the verifier needs its memory (sgc_init)\n");
    return 0;
  }
  char out[16384];
  unsetenv("SPANGC_FAIL_MMAP");
  int st = run_self(argv[0], "run", out, sizeof out);
  CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "without failures: %d: %s",
         st, out);
  const char *r = strstr(out, "requests=");
  CHECK(r != NULL);
  long total = atol(r + 9);
  CHECK(total > 5);
  int failed = 0, tried = 0;
  /* At full size every request is refused in turn; scaled down (the
   * sanitizer builds, where each run starts a slow runtime) every k-th,
   * from a start that moves with the process id so that runs differ. */
  long step = (long)(1.0 / test_scale() + 0.5);
  if (step < 1)
    step = 1;
  /* Scaled down, each sampled request gets one of the two, in turn. */
  for (long n = 1 + (long)getpid() % step; n <= total + 2; n += step)
    for (int onwards = 0; onwards < 2; onwards++) {
      if (step > 1 && onwards != (int)(n / step % 2))
        continue;
      tried++;
      char v[24];
      snprintf(v, sizeof v, "%ld%s", n, onwards ? "+" : "");
      setenv("SPANGC_FAIL_MMAP", v, 1);
      st = run_self(argv[0], "run", out, sizeof out);
      if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        fprintf(stderr, "SPANGC_FAIL_MMAP=%s: status %d:\n%s\n", v, st,
                out);
        failed++;
      }
    }
  printf("%ld requests, each refused in turn, and each the first of all "
         "refused (every %ld-th): %d runs, %d failed\n", total, step, tried,
         failed);
  CHECK(failed == 0);
  return 0;
}
