/* GC_alloc_lock / GC_alloc_unlock: while one thread holds the lock, another
 * thread's GC_call_with_alloc_lock does not run its function, and its
 * GC_gcollect does not complete; both go ahead once the lock is released.
 * The lock can be taken again afterwards. */
// labels: bdwgc threads
// requires: GC_alloc_lock GC_alloc_unlock
#define GC_THREADS 1
#include <gc.h>
#include <pthread.h>
#include <unistd.h>
#include "bdwgc_check.h"

static int locked, released, fn_ran_early, gc_done_early, fn_ran, gc_done;

static void *GC_CALLBACK in_lock(void *cd) {
  if (!__atomic_load_n(&released, __ATOMIC_ACQUIRE)) fn_ran_early = 1;
  fn_ran = 1;
  return cd;
}

static void *other(void *arg) {
  while (!__atomic_load_n(&locked, __ATOMIC_ACQUIRE)) usleep(1000);
  if (arg == NULL) {
    GC_call_with_alloc_lock(in_lock, NULL);
  } else {
    GC_gcollect();
    if (!__atomic_load_n(&released, __ATOMIC_ACQUIRE)) gc_done_early = 1;
    gc_done = 1;
  }
  return NULL;
}

static void hold_while(void *arg) {
  __atomic_store_n(&locked, 0, __ATOMIC_RELEASE);
  __atomic_store_n(&released, 0, __ATOMIC_RELEASE);
  pthread_t t;
  CHECK(GC_pthread_create(&t, NULL, other, arg) == 0, "create");
  GC_alloc_lock();
  __atomic_store_n(&locked, 1, __ATOMIC_RELEASE);
  usleep(300000); /* the other thread is waiting by now */
  __atomic_store_n(&released, 1, __ATOMIC_RELEASE);
  GC_alloc_unlock();
  CHECK(GC_pthread_join(t, NULL) == 0, "join");
}

int main(void) {
  GC_INIT();
  hold_while(NULL);
  CHECK(fn_ran, "GC_call_with_alloc_lock's function never ran");
  CHECK(!fn_ran_early, "GC_call_with_alloc_lock ran while another thread "
        "held GC_alloc_lock");
  hold_while((void *)1);
  CHECK(gc_done, "GC_gcollect never returned");
  CHECK(!gc_done_early, "GC_gcollect completed while another thread held "
        "GC_alloc_lock");
  GC_alloc_lock();
  GC_alloc_unlock();
  PASS("bdwgc_alloc_lock_excludes_collections_and_holders");
}
