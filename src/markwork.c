/*
 * markwork.c — the mark's work: its state (work, one per process: marks
 * are serialised by gc_lock) and the pool of work buffers the markers
 * share.
 *
 * Each marker keeps one work buffer of its own (gcwork.wbuf); a full one
 * goes to the shared list (putfull), from which idle markers take (steal)
 * it (getfull), and a busy marker hands half of its buffer over when some
 * marker is waiting (try_push, in mark-int.h: the markers' fast path).
 * getfull also detects the end of the parallel phase: every marker
 * waiting and no full buffer left.
 *
 * Bounded memory: buffers come from the OS, 16 at a time, up to a cap
 * (SPANGC_MARK_STACK_MAX, default 64 MiB, read by mark_prepare); they are
 * kept for later marks and never given back.  When no buffer can be had,
 * try_push fails and its caller decides (push: mark stack overflow;
 * push_or_scan: scan now).
 *
 * work.lock guards the lists of full and empty buffers, nbufs, and the
 * idle markers' count (nwait, done); work.cond is where idle markers wait.
 * nwait and full are read without the lock as hints by try_push.
 */
#include "mark-int.h"

markwork work SGC_NOGC = {SGC_MUTEX_INIT(WORK), PTHREAD_COND_INITIALIZER};

workbuf *getempty(void) {
  sgc_lock(&work.lock);
  workbuf *b = work.empty;
  if (b) {
    work.empty = b->next;
  } else if (work.nbufs < work.maxbufs) {
    /* 16 at a time, fewer when the cap is near. */
    uint64_t n = work.maxbufs - work.nbufs < 16 ? work.maxbufs - work.nbufs
                                                : 16;
    b = os_alloc(n * sizeof(workbuf));
    if (b) {
      work.nbufs += n;
      ATOMIC_ADD(&sgc_heap.sys_meta, n * sizeof(workbuf));
      for (uint64_t i = 1; i < n; i++) {
        b[i].next = work.empty;
        work.empty = &b[i];
      }
    }
  }
  sgc_unlock(&work.lock);
  if (b)
    b->n = 0;
  return b;
}

void putfull(workbuf *b) {
  sgc_lock(&work.lock);
  b->next = work.full;
  ATOMIC_STORE_RELAXED(&work.full, b);
  if (work.nwait)
    pthread_cond_signal(&work.cond);
  sgc_unlock(&work.lock);
}

void putempty(workbuf *b) {
  sgc_lock(&work.lock);
  b->next = work.empty;
  work.empty = b;
  sgc_unlock(&work.lock);
}

/* An idle marker polls for a full buffer or the mark's end this long
 * before it sleeps on work.cond.  A marker draining a long list publishes
 * a small buffer at a time (try_push hands half over to an idle one), and
 * the other takes it in microseconds: sleeping in between made every
 * handover a futex wake and wait, about 9000 of Guile's 10000 futex
 * calls on its list program.  Markers run with the world stopped (an
 * idle one spins on a core no mutator needs then) or, in a concurrent
 * phase, alone (nproc 1, never idle here while another works). */
#define GETFULL_SPIN_NS ((uint64_t)50000)

static void spin_for_work(void) {
  uint64_t t0 = os_nanotime();
  for (;;) {
    for (int i = 0; i < 64; i++) {
      if (ATOMIC_LOAD_RELAXED(&work.full) != NULL ||
          ATOMIC_LOAD_RELAXED(&work.done))
        return;
      __builtin_ia32_pause();
    }
    if (os_nanotime() - t0 > GETFULL_SPIN_NS)
      return;
  }
}

workbuf *getfull(gcwork *w) {
  sgc_lock(&work.lock);
  for (;;) {
    if (work.full) {
      workbuf *b = work.full;
      ATOMIC_STORE_RELAXED(&work.full, b->next);
      sgc_unlock(&work.lock);
      w->nsteal++;
      return b;
    }
    if (ATOMIC_LOAD_RELAXED(&work.done))
      break;
    ATOMIC_STORE_RELAXED(&work.nwait, work.nwait + 1);
    if (work.nwait == work.nproc) {
      ATOMIC_STORE_RELAXED(&work.done, 1);
      ATOMIC_STORE_RELAXED(&work.nwait, work.nwait - 1);
      pthread_cond_broadcast(&work.cond);
      break;
    }
    /* Counted idle, so the others hand work over (try_push) and the
     * last one in ends the mark; spin a while before sleeping. */
    sgc_unlock(&work.lock);
    spin_for_work();
    sgc_lock(&work.lock);
    if (work.full == NULL && !work.done)
      sgc_cond_wait(&work.cond, &work.lock);
    ATOMIC_STORE_RELAXED(&work.nwait, work.nwait - 1);
  }
  sgc_unlock(&work.lock);
  return NULL;
}

workbuf *trygetfull(void) {
  if (ATOMIC_LOAD_RELAXED(&work.full) == NULL)
    return NULL;
  sgc_lock(&work.lock);
  workbuf *b = work.full;
  if (b)
    ATOMIC_STORE_RELAXED(&work.full, b->next);
  sgc_unlock(&work.lock);
  return b;
}

void defer_item(gcwork *w, uintptr_t lo, uintptr_t hi) {
  workbuf *b = w->dbuf;
  if (b == NULL || b->n == WB_ITEMS) {
    workbuf *nb = getempty();
    if (nb == NULL) {
      ATOMIC_STORE(&work.remark_all, 1);
      return;
    }
    flush_deferred(w);
    w->dbuf = b = nb;
  }
  b->item[b->n].lo = lo;
  b->item[b->n].hi = hi;
  b->n++;
}

void flush_deferred(gcwork *w) {
  workbuf *b = w->dbuf;
  if (b == NULL)
    return;
  w->dbuf = NULL;
  sgc_lock(&work.lock);
  b->next = work.deferred;
  work.deferred = b;
  sgc_unlock(&work.lock);
}

/* World stopped, final stop: the deferred items become work. */
void mark_requeue_deferred(void) {
  sgc_lock(&work.lock);
  workbuf *b = work.deferred;
  work.deferred = NULL;
  while (b) {
    workbuf *next = b->next;
    if (b->n) {
      b->next = work.full;
      work.full = b;
    } else {
      b->next = work.empty;
      work.empty = b;
    }
    b = next;
  }
  sgc_unlock(&work.lock);
}
