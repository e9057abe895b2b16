// labels: gc threads
// timeout: 120
/* sgc_free of an object whose span another thread is sweeping waits for
 * that sweep (mspan_ensure_swept), sleeping after a few yields.  It only
 * yielded: a thread at real-time priority that yields gives its CPU to
 * no ordinary thread, so a SCHED_FIFO thread freeing into a span that an
 * ordinary sweeper on the same CPU had claimed spun until the kernel's
 * real-time throttling let the sweeper run (a sweep of 100 ms of CPU took
 * 2 s).  Here the whole process runs on CPU 0; the reclaim hook, called
 * by whichever ordinary thread sweeps a span of our 64-byte objects,
 * burns 100 ms of its thread's CPU time; meanwhile a SCHED_FIFO thread
 * frees a live object of that span.  Without the permission to use
 * SCHED_FIFO (no CAP_SYS_NICE) the test says so and checks the plain
 * case. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "spangc-int.h"

#define N 20000
#define BURN_MS 100

static void **volatile live; /* root: the even objects */
static sem_t in_sweep;
static int hooked;          /* atomic */
static uintptr_t swept_obj; /* atomic: the dead object being reclaimed */
static int no_fifo;         /* atomic */
static double free_ms;

static double thread_cpu_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int reclaim(void *obj, size_t size, int kind) {
  (void)kind;
  if (size != 64 || ATOMIC_ADD(&hooked, 1) != 1)
    return 1;
  ATOMIC_STORE(&swept_obj, (uintptr_t)obj);
  sem_post(&in_sweep);
  double t0 = thread_cpu_ms();
  while (thread_cpu_ms() - t0 < BURN_MS) /* runnable, not waiting */
    ;
  return 1;
}

static void pin(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  CHECK(sched_setaffinity(0, sizeof set, &set) == 0);
}

static void *freer(void *arg) {
  int fifo = (int)(intptr_t)arg;
  if (fifo) {
    struct sched_param sp = {.sched_priority = 10};
    if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0)
      ATOMIC_STORE(&no_fifo, 1);
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 30;
  int rc;
  while ((rc = sem_timedwait(&in_sweep, &ts)) != 0 && errno == EINTR)
    ; /* the collection's stop signals this thread */
  CHECKF(rc == 0, "no 64-byte object was reclaimed in 30 s");
  uintptr_t dead = ATOMIC_LOAD(&swept_obj);
  mspan *s = mheap_lookup(dead);
  CHECK(s != NULL);
  int k = -1;
  for (int i = 0; i < N / 2 && k < 0; i++)
    if ((uintptr_t)live[i] >= s->base && (uintptr_t)live[i] < s->limit)
      k = i;
  CHECKF(k >= 0, "no live object beside the one being reclaimed");
  uint64_t t0 = os_nanotime();
  sgc_free(live[k]); /* waits for the sweep of its span */
  free_ms = (os_nanotime() - t0) / 1e6;
  live[k] = NULL;
  return NULL;
}

static void phase(const char *name, int fifo) {
  live = sgc_alloc(N / 2 * sizeof(void *));
  CHECK(live != NULL);
  for (int i = 0; i < N; i++) {
    void *p = sgc_alloc(64);
    CHECK(p != NULL);
    if (i % 2 == 0)
      live[i / 2] = p;
  }
  ATOMIC_STORE(&hooked, 0);
  sgc_set_reclaim_hook(reclaim);
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, freer, (void *)(intptr_t)fifo) == 0);
  sgc_collect(); /* sweeps on this thread and the background sweeper */
  CHECK(pthread_join(t, NULL) == 0);
  sgc_set_reclaim_hook(NULL);
  printf("%s: sgc_free waited %.0f ms for a sweep of %d ms of CPU\n", name,
         free_ms, BURN_MS);
  CHECKF(free_ms < BURN_MS * 6,
         "%s: sgc_free waited %.0f ms for a sweep burning %d ms", name,
         free_ms, BURN_MS);
  live = NULL;
}

int main(void) {
  pin(); /* every thread, the background sweeper's too, on CPU 0 */
  sgc_init();
  sem_init(&in_sweep, 0, 0);
  phase("ordinary freer", 0);
  phase("real-time freer", 1);
  if (ATOMIC_LOAD(&no_fifo))
    printf("SCHED_FIFO refused (no CAP_SYS_NICE): the real-time phase ran "
           "at ordinary priority\n");
  sgc_heap_verify();
  return 0;
}
