/* GC_set_on_thread_event: a collection reports GC_EVENT_THREAD_SUSPENDED and
 * then GC_EVENT_THREAD_UNSUSPENDED with the pthread_t of a registered thread
 * that is running (not in GC_do_blocking), never the collecting thread's;
 * the suspension is reported between the collection's START and END events
 * and the resumption before its END; the getter returns the callback. */
// labels: bdwgc threads
// requires: GC_set_on_thread_event GC_EVENT_THREAD_UNSUSPENDED
#include <gc.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include "bdwgc_check.h"

static pthread_t worker_id, main_id;
static int stop, running;
static volatile long susp_worker, unsusp_worker, susp_main, end_seen;
static volatile long susp_after_start, unsusp_before_end, in_collection;

static void GC_CALLBACK on_thread(GC_EventType e, void *id) {
  pthread_t t = (pthread_t)id;
  if (pthread_equal(t, main_id) && e == GC_EVENT_THREAD_SUSPENDED)
    susp_main++;
  if (!pthread_equal(t, worker_id))
    return;
  if (e == GC_EVENT_THREAD_SUSPENDED) {
    susp_worker++;
    if (in_collection) susp_after_start++;
  } else if (e == GC_EVENT_THREAD_UNSUSPENDED) {
    unsusp_worker++;
    if (in_collection) unsusp_before_end++;
  }
}
static void GC_CALLBACK on_event(GC_EventType e) {
  if (e == GC_EVENT_START) in_collection = 1;
  if (e == GC_EVENT_END) { in_collection = 0; end_seen++; }
}

static void *worker(void *arg) {
  __atomic_store_n(&running, 1, __ATOMIC_RELEASE);
  /* Runs (not in GC_do_blocking): every collection must stop it.  The
   * short sleeps let ThreadSanitizer deliver the stop signal, which it
   * holds back from a loop that makes no calls. */
  while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) usleep(50);
  return arg;
}

int main(void) {
  GC_INIT();
  main_id = pthread_self();
  GC_set_on_thread_event(on_thread);
  CHECK(GC_get_on_thread_event() == on_thread, "getter returned another "
        "callback");
  GC_set_on_collection_event(on_event);
  CHECK(GC_pthread_create(&worker_id, NULL, worker, NULL) == 0, "create");
  while (!__atomic_load_n(&running, __ATOMIC_ACQUIRE)) sched_yield();
  for (int i = 0; i < 3; i++) GC_gcollect();
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  CHECK(GC_pthread_join(worker_id, NULL) == 0, "join");
  CHECK(susp_worker >= 3, "the running thread was reported suspended %ld "
        "times in 3 collections", susp_worker);
  CHECK(unsusp_worker == susp_worker, "suspended %ld times, resumed %ld",
        susp_worker, unsusp_worker);
  CHECK(susp_after_start == susp_worker && unsusp_before_end == unsusp_worker,
        "thread events outside START..END: %ld/%ld suspensions, %ld/%ld "
        "resumptions inside", susp_after_start, susp_worker,
        unsusp_before_end, unsusp_worker);
  CHECK(susp_main == 0, "the collecting thread was reported suspended");
  CHECK(end_seen >= 3, "%ld collections ended", end_seen);
  PASS("bdwgc_thread_events_name_stopped_threads");
}
