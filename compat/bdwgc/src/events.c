/*
 * events.c — bdwgc's collection and thread events on spangc's hooks.
 *
 * spangc tells the layer three moments of a collection: its start hook
 * (collector's lock held, world not yet stopped), its root callback
 * (world stopped, marking) and nothing at the end.  So:
 *   start hook:     START, PRE_STOP_WORLD
 *   root callback:  POST_STOP_WORLD, THREAD_SUSPENDED for each known
 *                   thread, MARK_START; the rest is now pending;
 *   flush:          MARK_END, PRE_START_WORLD, THREAD_UNSUSPENDED for
 *                   each, POST_START_WORLD, RECLAIM_START, RECLAIM_END,
 *                   END.
 * The flush runs on whichever thread first sees the pending flag: the
 * collecting thread when GC_gcollect returns, otherwise the next thread
 * that allocates through the layer, or the start of the next collection
 * (so every START is followed by its END before the next START).
 *
 * pending: 0 nothing, 1 the second half is owed, 2 a thread is reporting
 * it (the next start hook waits for that to finish: it must not lock,
 * and the reporter is running, not stopped, so the wait is short).
 *
 * Threads: the layer knows the threads registered through it (GC_init,
 * GC_register_my_thread, GC_pthread_create's trampoline) in a fixed table
 * of slots read without a lock by the root callback (a stopped thread
 * might hold any lock).  Threads inside GC_do_blocking are not stopped by
 * spangc and are not reported, as bdwgc does not suspend them either.
 */
#include <sched.h>

#include "compat-int.h"

int compat_events_pending;
static GC_on_collection_event_proc on_event;
static GC_on_thread_event_proc on_thread_event;
static GC_start_callback_proc start_callback;

void GC_set_on_collection_event(GC_on_collection_event_proc f) {
  __atomic_store_n(&on_event, f, __ATOMIC_RELEASE);
}
GC_on_collection_event_proc GC_get_on_collection_event(void) {
  return __atomic_load_n(&on_event, __ATOMIC_ACQUIRE);
}
void GC_set_on_thread_event(GC_on_thread_event_proc f) {
  __atomic_store_n(&on_thread_event, f, __ATOMIC_RELEASE);
}
GC_on_thread_event_proc GC_get_on_thread_event(void) {
  return __atomic_load_n(&on_thread_event, __ATOMIC_ACQUIRE);
}

/* Called once per collection, holding the collector's lock (as bdwgc
 * holds its allocation lock): it must not allocate. */
void GC_set_start_callback(GC_start_callback_proc f) {
  __atomic_store_n(&start_callback, f, __ATOMIC_RELEASE);
}
GC_start_callback_proc GC_get_start_callback(void) {
  return __atomic_load_n(&start_callback, __ATOMIC_ACQUIRE);
}

/* Whether the collection under way reported its START: a collection
 * that began without a callback reports none of its events (so that a
 * callback set meanwhile does not see an END without its START). */
static int cycle_reported;

static void report(GC_EventType e) {
  GC_on_collection_event_proc f = __atomic_load_n(&on_event, __ATOMIC_ACQUIRE);
  if (f && __atomic_load_n(&cycle_reported, __ATOMIC_RELAXED))
    f(e);
}

/* ------------------------------------------------------- known threads */

#define SLOTS 1024
typedef struct slot {
  pthread_t id;
  int used;     /* atomic; written last when taken, first when freed */
  int blocked;  /* atomic: inside GC_do_blocking */
  int reported; /* suspended reported, unsuspended owed */
} slot;
static slot slots[SLOTS];
static __thread int my_slot = -1;
static pthread_key_t slot_key;
static pthread_once_t slot_key_once = PTHREAD_ONCE_INIT;

static void slot_release(void *unused) {
  (void)unused;
  compat_thread_unregistered();
}
static void make_key(void) { pthread_key_create(&slot_key, slot_release); }

void compat_thread_registered(void) {
  if (my_slot >= 0)
    return;
  pthread_once(&slot_key_once, make_key);
  for (int i = 0; i < SLOTS; i++) {
    int z = 0;
    if (__atomic_load_n(&slots[i].used, __ATOMIC_RELAXED) == 0 &&
        __atomic_compare_exchange_n(&slots[i].used, &z, -1, 0,
                                    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
      slots[i].id = pthread_self();
      __atomic_store_n(&slots[i].blocked, 0, __ATOMIC_RELAXED);
      __atomic_store_n(&slots[i].used, 1, __ATOMIC_RELEASE);
      my_slot = i;
      pthread_setspecific(slot_key, &slots[i]); /* the exit runs release */
      return;
    }
  }
  /* More than SLOTS threads: this one is not reported. */
}

void compat_thread_unregistered(void) {
  if (my_slot < 0)
    return;
  pthread_setspecific(slot_key, NULL);
  __atomic_store_n(&slots[my_slot].used, 0, __ATOMIC_RELEASE);
  my_slot = -1;
}

void compat_thread_blocking(int blocked) {
  if (my_slot >= 0)
    __atomic_store_n(&slots[my_slot].blocked, blocked, __ATOMIC_RELEASE);
}

/* In a fork child: the other threads are gone.  Their slots are freed
 * (no event names them), and a report another thread was delivering
 * (pending 2) is dropped: the child's next collection would wait for it
 * for ever. */
void compat_events_atfork_child(void) {
  for (int i = 0; i < SLOTS; i++)
    if (i != my_slot) {
      slots[i].reported = 0;
      __atomic_store_n(&slots[i].used, 0, __ATOMIC_RELEASE);
    }
  int p = __atomic_load_n(&compat_events_pending, __ATOMIC_ACQUIRE);
  if (p == 2)
    __atomic_store_n(&compat_events_pending, 0, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------- hooks */

void compat_start_hook(void) {
  GC_start_callback_proc cb = __atomic_load_n(&start_callback,
                                              __ATOMIC_ACQUIRE);
  if (cb)
    cb();
  /* The previous collection's second half first, whoever reports it. */
  for (;;) {
    int p = __atomic_load_n(&compat_events_pending, __ATOMIC_ACQUIRE);
    if (p == 0)
      break;
    if (p == 1)
      compat_flush_events(); /* may lose the race to another thread */
    else
      sched_yield();
  }
  __atomic_store_n(&cycle_reported,
                   __atomic_load_n(&on_event, __ATOMIC_ACQUIRE) != NULL,
                   __ATOMIC_RELAXED);
  report(GC_EVENT_START);
  report(GC_EVENT_PRE_STOP_WORLD);
}

/* From the root callback: world stopped. */
void compat_events_marking(void) {
  report(GC_EVENT_POST_STOP_WORLD);
  GC_on_thread_event_proc t = __atomic_load_n(&on_thread_event,
                                              __ATOMIC_ACQUIRE);
  pthread_t self = pthread_self();
  for (int i = 0; i < SLOTS; i++) {
    slot *s = &slots[i];
    s->reported = 0;
    if (t && __atomic_load_n(&s->used, __ATOMIC_ACQUIRE) == 1 &&
        !__atomic_load_n(&s->blocked, __ATOMIC_ACQUIRE) &&
        !pthread_equal(s->id, self)) {
      s->reported = 1;
      t(GC_EVENT_THREAD_SUSPENDED, (void *)s->id);
    }
  }
  report(GC_EVENT_MARK_START);
  __atomic_store_n(&compat_events_pending, 1, __ATOMIC_RELEASE);
}

void compat_flush_events(void) {
  int one = 1;
  if (!__atomic_compare_exchange_n(&compat_events_pending, &one, 2, 0,
                                   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
    return;
  report(GC_EVENT_MARK_END);
  report(GC_EVENT_PRE_START_WORLD);
  GC_on_thread_event_proc t = __atomic_load_n(&on_thread_event,
                                              __ATOMIC_ACQUIRE);
  for (int i = 0; i < SLOTS; i++)
    if (slots[i].reported) {
      slots[i].reported = 0;
      if (t)
        t(GC_EVENT_THREAD_UNSUSPENDED, (void *)slots[i].id);
    }
  report(GC_EVENT_POST_START_WORLD);
  report(GC_EVENT_RECLAIM_START);
  report(GC_EVENT_RECLAIM_END);
  report(GC_EVENT_END);
  __atomic_store_n(&compat_events_pending, 0, __ATOMIC_RELEASE);
}
