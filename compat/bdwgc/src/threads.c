/*
 * threads.c — bdwgc's thread calls on spangc.
 *
 * Threads made with GC_pthread_create are registered by spangc
 * (sgc_pthread_create); a thread made otherwise is registered by its first
 * allocation or by GC_register_my_thread.  GC_do_blocking is a spangc
 * blocking region; GC_call_with_gc_active steps out of one.  Waiting calls
 * (join) wait inside a blocking region so that a collection never waits
 * for them.
 *
 * A thread's result stays reachable until the thread is joined (bdwgc
 * keeps it in its thread table): GC_pthread_create runs the thread
 * through a trampoline whose record, an uncollectable object, holds the
 * result; GC_pthread_join and GC_pthread_detach end the record.  The
 * records are listed by thread id under threads_lock.
 *
 * Signals: spangc stops threads with SIGPWR, or the signal chosen with
 * GC_set_suspend_signal (GC_SIG_SUSPEND) before GC_INIT or with
 * SPANGC_SUSPEND_SIGNAL; it restarts them with a semaphore, not a signal:
 * GC_get_thr_restart_signal returns -1 and GC_set_thr_restart_signal only
 * checks its argument.  spangc's interposers (src/signals.c, exported by
 * this library too) keep the suspend signal deliverable in registered
 * threads whatever mask they set; GC_pthread_sigmask never blocks it in
 * any thread.
 */
#include <dlfcn.h>
#include <signal.h>

#include "compat-int.h"

typedef struct thread_rec {
  struct thread_rec *next;
  pthread_t id;
  void *(*fn)(void *);
  void *arg;
  void *result;  /* kept alive by this (uncollectable) record */
  int finished, detached;
} thread_rec;

static thread_rec *threads; /* records of unjoined threads */
static sgc_mutex threads_lock = SGC_MUTEX_INIT(COMPAT_THREADS);

/* In a fork child (control.c, compat_locks_atfork_child). */
void compat_threads_atfork_child(void) {
  threads_lock = (sgc_mutex)SGC_MUTEX_INIT(COMPAT_THREADS);
}
static __thread thread_rec *self_rec;

/* Unlink the record of thread t (threads_lock held); NULL if none. */
static thread_rec *take_rec(pthread_t t) {
  for (thread_rec **pp = &threads; *pp; pp = &(*pp)->next)
    if (pthread_equal((*pp)->id, t)) {
      thread_rec *r = *pp;
      *pp = r->next;
      return r;
    }
  return NULL;
}

/* The thread is done: keep its result for the joiner, or end the record
 * of a detached thread. */
static void finish(thread_rec *r, void *result) {
  compat_lock(&threads_lock);
  r->result = result;
  r->finished = 1;
  thread_rec *gone = r->detached ? take_rec(r->id) : NULL;
  sgc_unlock(&threads_lock);
  if (gone)
    sgc_free(gone);
}

static void *trampoline(void *p) {
  thread_rec *r = p;
  self_rec = r;
  compat_thread_registered();
  void *result = r->fn(r->arg);
  self_rec = NULL;
  finish(r, result);
  return result;
}

int GC_pthread_create(pthread_t *t, const pthread_attr_t *attr,
                      void *(*fn)(void *), void *arg) {
  compat_ensure_init();
  thread_rec *r = sgc_alloc_uncollectable(sizeof *r);
  if (r == NULL)
    return EAGAIN;
  r->fn = fn;
  r->arg = arg;
  int state = PTHREAD_CREATE_JOINABLE;
  if (attr)
    pthread_attr_getdetachstate(attr, &state);
  r->detached = state == PTHREAD_CREATE_DETACHED;
  /* Listed before the thread runs, so that it finds itself there. */
  compat_lock(&threads_lock);
  int err = sgc_pthread_create(&r->id, attr, trampoline, r);
  if (err == 0) {
    r->next = threads;
    /* Complete before linked: a fork child may walk the list with this
     * thread parked at any instruction (as GC_add_roots). */
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    threads = r;
    *t = r->id;
  }
  sgc_unlock(&threads_lock);
  if (err != 0)
    sgc_free(r);
  return err;
}

int GC_pthread_join(pthread_t t, void **ret) {
  compat_ensure_init();
  int r;
  if (!sgc_thread_is_registered() || sgc_in_blocking()) {
    r = pthread_join(t, ret);
  } else {
    sgc_enter_blocking();
    r = pthread_join(t, ret);
    sgc_exit_blocking();
  }
  if (r == 0) {
    compat_lock(&threads_lock);
    thread_rec *gone = take_rec(t);
    sgc_unlock(&threads_lock);
    if (gone)
      sgc_free(gone);
  }
  return r;
}

int GC_pthread_detach(pthread_t t) {
  compat_ensure_init();
  compat_lock(&threads_lock);
  int err = pthread_detach(t);
  thread_rec *gone = NULL;
  if (err == 0) {
    for (thread_rec *r = threads; r; r = r->next)
      if (pthread_equal(r->id, t)) {
        r->detached = 1;
        if (r->finished)
          gone = take_rec(t);
        break;
      }
  }
  sgc_unlock(&threads_lock);
  if (gone)
    sgc_free(gone);
  return err;
}

void GC_pthread_exit(void *ret) {
  thread_rec *r = self_rec;
  if (r) {
    self_rec = NULL;
    finish(r, ret);
  }
  pthread_exit(ret);
}

int GC_pthread_sigmask(int how, const sigset_t *set, sigset_t *old) {
  int sus = sgc_get_suspend_signal();
  if (set != NULL && how != SIG_UNBLOCK && sigismember(set, sus) == 1) {
    sigset_t s = *set;
    sigdelset(&s, sus);
    return pthread_sigmask(how, &s, old);
  }
  return pthread_sigmask(how, set, old);
}

static void *wait_for_collection(void *unused) { return unused; }

/* As bdwgc promises, no collection runs while the object loads: one under
 * way finishes first, and none starts until dlopen returns (allocations
 * by the object's constructors grow the heap instead).  A collection
 * holds the loader's lock while it walks the loaded objects; a thread
 * waiting for that lock inside dlopen is stopped by the suspend signal,
 * but under ThreadSanitizer the signal waits until the thread leaves the
 * loader, and the stop waited for ever.  The new object's data segments
 * are scanned from the next collection (spangc walks the loaded objects
 * at every mark). */
void *GC_dlopen(const char *path, int mode) {
  compat_ensure_init();
  /* GC_dont_gc holds off GC_gcollect and the layer's other explicit
   * calls, as in bdwgc; sgc_disable the collections allocation asks for
   * (the hard heap limit's excepted). */
  __atomic_add_fetch(&GC_dont_gc, 1, __ATOMIC_SEQ_CST);
  sgc_disable();
  sgc_call_without_collections(wait_for_collection, NULL);
  void *h = dlopen(path, mode);
  sgc_enable();
  __atomic_sub_fetch(&GC_dont_gc, 1, __ATOMIC_SEQ_CST);
  return h;
}

/* bdwgc: "no effect after GC_init"; an unusable signal would make its
 * GC_init abort, so this aborts at once, saying why. */
void GC_set_suspend_signal(int sig) {
  int err = sgc_set_suspend_signal(sig);
  if (err == EINVAL)
    compat_fatal("GC_set_suspend_signal(%d): not a signal that can stop "
                 "threads (SIGKILL, SIGSTOP, a fault signal, the C "
                 "library's own, or out of range)", sig);
  if (err == EBUSY)
    compat_warn("GC Warning: GC_set_suspend_signal after GC_init has no "
                "effect (the suspend signal stays %lu)\n",
                (GC_word)sgc_get_suspend_signal());
}

int GC_get_suspend_signal(void) { return sgc_get_suspend_signal(); }

/* Threads resume without a signal: the number is checked, not used. */
void GC_set_thr_restart_signal(int sig) {
  if (sig < 1 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP)
    compat_warn("GC Warning: GC_set_thr_restart_signal: %lu is not a "
                "signal that can be caught (ignored)\n", (GC_word)sig);
}

int GC_get_thr_restart_signal(void) { return -1; }

/* Every thread may register itself at any time on spangc. */
void GC_allow_register_threads(void) { compat_ensure_init(); }

int GC_register_my_thread(const struct GC_stack_base *sb) {
  compat_ensure_init();
  if (sgc_thread_is_registered()) {
    compat_thread_registered();
    return GC_DUPLICATE;
  }
  if (sgc_register_thread() != 0)
    return GC_NO_MEMORY;
  compat_thread_registered();
  return GC_SUCCESS;
}

int GC_unregister_my_thread(void) {
  if (!sgc_thread_is_registered())
    return GC_SUCCESS;
  if (sgc_in_blocking())
    compat_fatal("GC_unregister_my_thread: called inside GC_do_blocking");
  compat_thread_unregistered();
  sgc_unregister_thread();
  return GC_SUCCESS;
}

int GC_thread_is_registered(void) {
  return GC_is_init_called() && sgc_thread_is_registered();
}

int GC_get_stack_base(struct GC_stack_base *sb) {
  pthread_attr_t a;
  if (pthread_getattr_np(pthread_self(), &a) != 0)
    return GC_UNIMPLEMENTED;
  void *addr;
  size_t size;
  int r = pthread_attr_getstack(&a, &addr, &size);
  pthread_attr_destroy(&a);
  if (r != 0)
    return GC_UNIMPLEMENTED;
  sb->mem_base = (char *)addr + size;
  return GC_SUCCESS;
}

void *GC_call_with_stack_base(GC_stack_base_func fn, void *arg) {
  struct GC_stack_base sb;
  volatile char here = 0;
  sb.mem_base = (void *)&here;
  return fn(&sb, arg);
}

void *GC_do_blocking(GC_fn_type fn, void *cd) {
  compat_ensure_init();
  if (sgc_in_blocking())
    return fn(cd);
  if (!sgc_thread_is_registered())
    sgc_register_thread();
  compat_thread_blocking(1);
  sgc_enter_blocking();
  void *r = fn(cd);
  sgc_exit_blocking();
  compat_thread_blocking(0);
  return r;
}

void *GC_call_with_gc_active(GC_fn_type fn, void *cd) {
  compat_ensure_init();
  if (!sgc_in_blocking())
    return fn(cd);
  sgc_exit_blocking();
  compat_thread_blocking(0);
  void *r = fn(cd);
  compat_thread_blocking(1);
  sgc_enter_blocking();
  return r;
}
