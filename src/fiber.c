/*
 * fiber.c — fibers whose stacks live in the heap.
 *
 * A fiber is a user-level context: its own stack and saved registers.  A
 * fiber object is an ordinary collectable heap object; its stack is a part
 * of a span in state MSPAN_STACK (recorded in allspans like every span,
 * never swept, never marked), with a guard page below it.  Stacks of up to
 * 256 KiB come from per-size pools (a 512 KiB span cut into stacks of one
 * size, its allocbits saying which are in use); larger stacks get a span of
 * their own.  Each thread's own stack is a fiber too, embedded in its
 * mthread ("home"), so that a fiber can switch back to it.
 *
 * Switching (sgc_fiber_switch) pushes the callee-saved registers on the
 * current stack, saves the stack pointer in the fiber and loads the other
 * one's; it runs inside a no-preempt region, so a stop of the world always
 * finds a thread's stack bounds, current fiber and saved pointers
 * consistent.  A fiber that returns from its function switches back to the
 * fiber that last switched to it; its stack is freed at once by the code
 * that resumes there (nothing can run on it any more).
 *
 * The collector scans a running fiber through the thread that runs it
 * (and that thread's home stack from its saved pointer), and a suspended
 * fiber only if its object is reachable: after the parallel mark it loops
 * over the registry of live fibers, scanning [sp, hi) of each newly marked
 * suspended fiber, until no new fiber is found.  Then, still with the world
 * stopped, an unreachable fiber's stack is freed, and a reachable suspended
 * fiber using less than a quarter of its stack gets the pages below its
 * stack pointer returned to the OS (madvise): a conservative collector
 * cannot move a stack, so the address range stays and only memory goes.
 *
 * A write to the guard page (stack overflow) is caught by a SIGSEGV
 * handler running on a per-thread signal stack, which aborts naming the
 * fiber; other faults go to the handler that was there before.
 *
 * Locks: fiber_lock guards the registry, the stack pools and their byte
 * counts (a pool grows and shrinks by whole spans from the heap; its rank:
 * lockrank.h), by mutators only inside no-preempt regions.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "spangc-int.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FIBER_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define FIBER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FIBER_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define FIBER_TSAN 1
#endif
#ifdef FIBER_ASAN
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
void __sanitizer_start_switch_fiber(void **fake, const void *bottom,
                                    size_t size);
void __sanitizer_finish_switch_fiber(void *fake, const void **bottom_old,
                                     size_t *size_old);
#endif
#ifdef FIBER_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

#if !defined(__x86_64__)
#error "spangc fibers: the context switch is written for x86-64 only"
#endif

#define FIBER_MAGIC 0x46494252u      /* "FIBR" */
#define FIBER_HOME_MAGIC 0x484f4d45u /* "HOME" */
#define GUARD 4096u
#define POOL_SPAN_PAGES 64          /* 512 KiB */
#define NORDERS 5                   /* 16, 32, 64, 128, 256 KiB */
#define MIN_STACK (16u << 10)
#define DEFAULT_STACK (256u << 10)

/* The context switch (fiber_swap, fiber_entry) is machine.c's. */

/* -------------------------------------------------- registry and pools */

static sgc_mutex fiber_lock = SGC_MUTEX_INIT(FIBER);
static sgc_fiber **registry SGC_NOGC;
static uint32_t nreg, capreg;
static mspan_list pool[NORDERS] SGC_NOGC;
static uint64_t nfibers_created, nfibers_finished;
/* Stack pools: bytes of pool spans, and of the stacks in use in them. */
static uint64_t pool_bytes, pool_used_bytes;

static bool registry_add(sgc_fiber *f) {
  if (nreg == capreg) {
    uint32_t cap = capreg ? capreg * 2 : 1024;
    sgc_fiber **r = os_alloc(cap * sizeof *r);
    if (r == NULL)
      return false;
    ATOMIC_ADD(&sgc_heap.sys_meta, cap * sizeof *r);
    if (registry) {
      memcpy(r, registry, nreg * sizeof *r);
      os_free(registry, capreg * sizeof *r);
      ATOMIC_ADD(&sgc_heap.sys_meta, -(uint64_t)(capreg * sizeof *r));
    }
    registry = r;
    capreg = cap;
  }
  f->regidx = nreg;
  registry[nreg++] = f;
  return true;
}

static void registry_remove(sgc_fiber *f) {
  uint32_t i = f->regidx;
  SGC_ASSERT(i < nreg && registry[i] == f);
  registry[i] = registry[--nreg];
  registry[i]->regidx = i;
  f->regidx = UINT32_MAX;
}

static int order_of(size_t total) {
  size_t s = MIN_STACK;
  for (int o = 0; o < NORDERS; o++, s <<= 1)
    if (total <= s)
      return o;
  return -1;
}

/* Guard pages.  Each protected guard splits the arena's mapping, and a
 * process may have only vm.max_map_count mappings (65530 by default):
 * guards are given to at most a quarter of that many stacks at a time.
 * Every stack also has a canary in its lowest word, checked whenever its
 * fiber is switched away from and by the collector. */
static long guard_budget = -1, guards_used;

static bool guard_protect(uintptr_t base) {
  if (guard_budget < 0) {
    long max = 65530;
    FILE *fp = fopen("/proc/sys/vm/max_map_count", "r");
    if (fp) {
      if (fscanf(fp, "%ld", &max) != 1)
        max = 65530;
      fclose(fp);
    }
    guard_budget = max / 4;
  }
  if (guards_used >= guard_budget) {
    static int warned;
    if (!warned++)
      sgc_warn("%ld fiber stacks have guard pages (a quarter of "
               "vm.max_map_count); further stacks rely on a canary checked "
               "at each switch", guards_used);
    return false;
  }
  if (mprotect((void *)base, GUARD, PROT_NONE) != 0)
    return false;
  guards_used++;
  return true;
}

static void guard_release(sgc_fiber *f) {
  if (f->guarded) {
    mprotect((void *)(f->lo - GUARD), GUARD, PROT_READ | PROT_WRITE);
    guards_used--;
    f->guarded = 0;
  }
}

static uintptr_t canary(const sgc_fiber *f) {
  return (uintptr_t)f ^ 0x5350414e47435354ull; /* "SPANGCST" */
}

/* Zero up to n bytes of the running stack below the caller's frame
 * (never closer than a page to the stack's low end): the values dead
 * frames left there, which the frames of a collection started next
 * would otherwise carry into its scan of this stack. */
#define WIPE_BYTES (16u << 10)
static __attribute__((noinline)) void stack_wipe_below(const mthread *t,
                                                       size_t n) {
  uintptr_t here = (uintptr_t)__builtin_frame_address(0);
  uintptr_t floor = t->stack_lo + 2 * GUARD + 512;
  if (here <= floor)
    return;
  if (n > here - floor)
    n = here - floor;
  char *buf = __builtin_alloca(n);
  explicit_bzero(buf, n);
}

static void check_canary(const sgc_fiber *f) {
  if (f->magic == FIBER_MAGIC && f->span && !f->shrunk &&
      *(const uintptr_t *)f->lo != canary(f))
    sgc_fatal("fiber %p overflowed its stack of %zu bytes (its canary at %p "
              "was overwritten)", (const void *)f, (size_t)(f->hi - f->lo),
              (void *)f->lo);
}

/* A stack of 'total' bytes (guard page included), fiber_lock held.  Sets
 * f->span, f->order, f->lo, f->hi. */
static bool stack_alloc(sgc_fiber *f, size_t total) {
  int o = order_of(total);
  mspan *s;
  uintptr_t base;
  if (o < 0) {
    uintptr_t npages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    s = mheap_alloc_stack(npages);
    if (s == NULL)
      return false;
    base = s->base;
    total = npages * PAGE_SIZE;
  } else {
    total = MIN_STACK << o;
    s = pool[o].first;
    if (s == NULL) {
      s = mheap_alloc_stack(POOL_SPAN_PAGES);
      if (s == NULL)
        return false;
      s->elemsize = total;
      s->nelems = (uint32_t)(POOL_SPAN_PAGES * PAGE_SIZE / total);
      memset(s->allocbits, 0, sizeof s->allocbits);
      s->nalloc = 0;
      mspan_list_insert(&pool[o], s);
      pool_bytes += POOL_SPAN_PAGES * PAGE_SIZE;
    }
    pool_used_bytes += total;
    uint32_t i = 0;
    while (bitmap_get(s->allocbits, i))
      i++;
    s->allocbits[i >> 6] |= (uint64_t)1 << (i & 63);
    if (++s->nalloc == s->nelems)
      mspan_list_remove(s);
    base = s->base + (uintptr_t)i * total;
  }
  f->span = s;
  f->order = o;
  f->lo = base + GUARD;
  f->hi = base + total;
  f->guarded = guard_protect(base);
  *(uintptr_t *)f->lo = canary(f);
  return true;
}

/* Give f's stack back, fiber_lock held. */
static void stack_free(sgc_fiber *f) {
  mspan *s = f->span;
  uintptr_t base = f->lo - GUARD;
  f->span = NULL;
  guard_release(f);
#ifdef FIBER_ASAN
  /* A fiber dropped while suspended never returned from its frames:
   * AddressSanitizer's poisoning of their locals would stay on pages the
   * heap hands out again. */
  __asan_unpoison_memory_region((void *)f->lo, f->hi - f->lo);
#endif
  if (f->order < 0) {
    mheap_free_stack(s); /* releases the whole span */
    return;
  }
  os_release((void *)f->lo, f->hi - f->lo);
  uint32_t i = (uint32_t)((base - s->base) / s->elemsize);
  SGC_ASSERT(bitmap_get(s->allocbits, i));
  s->allocbits[i >> 6] &= ~((uint64_t)1 << (i & 63));
  pool_used_bytes -= s->elemsize;
  if (s->nalloc-- == s->nelems)
    mspan_list_insert(&pool[f->order], s);
  if (s->nalloc == 0) {
    mspan_list_remove(s);
    pool_bytes -= s->npages * PAGE_SIZE;
    mheap_free_stack(s);
  }
}

static void fiber_forget(sgc_fiber *f) {
  if (f->span)
    stack_free(f);
  if (f->regidx != UINT32_MAX)
    registry_remove(f);
#ifdef FIBER_TSAN
  if (f->tsan_fiber) {
    __tsan_destroy_fiber(f->tsan_fiber);
    f->tsan_fiber = NULL;
  }
#endif
}

/* ------------------------------------------------- stack overflow report */

static struct sigaction old_segv;
static pthread_once_t segv_once = PTHREAD_ONCE_INIT;

static void segv_handler(int sig, siginfo_t *si, void *uc) {
  uintptr_t a = (uintptr_t)si->si_addr;
  mheap *h = &sgc_heap;
  if (a >= h->arena_start && a < ATOMIC_LOAD(&h->arena_used)) {
    mspan *s = h->spans[(a - h->arena_start) >> PAGE_SHIFT];
    if (s && s->state == MSPAN_STACK && s->elemsize &&
        (a - s->base) % s->elemsize < GUARD) {
      mcache *c = sgc_tls_cache;
      sgc_fiber *f = c && c->thr ? c->thr->cur : NULL;
      sgc_fatal("fiber %p overflowed its stack of %zu bytes (fault at %p, "
                "in the guard page below the stack)",
                (void *)f, f ? (size_t)(f->hi - f->lo) : (size_t)0,
                (void *)a);
    }
  }
  /* Not ours: hand it to whoever was there before. */
  if (old_segv.sa_flags & SA_SIGINFO) {
    old_segv.sa_sigaction(sig, si, uc);
  } else if (old_segv.sa_handler == SIG_DFL || old_segv.sa_handler == SIG_IGN) {
    signal(SIGSEGV, SIG_DFL); /* the fault repeats and kills the process */
  } else {
    old_segv.sa_handler(sig);
  }
}

static void segv_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = segv_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &old_segv);
}

/* A signal stack for this thread, so an overflowing fiber can be
 * reported; a thread that has one already keeps it. */
static void ensure_altstack(mthread *t) {
  t->altstack_checked = 1;
  if (t->altstack)
    return;
  stack_t cur;
  if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE))
    return;
  size_t size = 64 << 10;
  void *p = os_alloc(size);
  if (p == NULL)
    return;
  stack_t ss = {.ss_sp = p, .ss_size = size, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) == 0)
    t->altstack = p;
  else
    os_free(p, size);
}

/* ---------------------------------------------------------- threads */

void fiber_thread_init(mthread *t) {
  memset(&t->home, 0, sizeof t->home);
  t->home.magic = FIBER_HOME_MAGIC;
  t->home.state = FIBER_RUNNING;
  t->home.lo = t->stack_lo;
  t->home.hi = t->stack_hi;
  t->home.order = -1;
  t->home.regidx = UINT32_MAX;
  t->home.thread = t;
#ifdef FIBER_TSAN
  t->home.tsan_fiber = __tsan_get_current_fiber();
#endif
  t->cur = &t->home;
  t->dead = NULL;
}

void fiber_thread_exit(mthread *t) {
  if (t->cur != &t->home)
    sgc_fatal("thread %lu exits while running fiber %p: a thread must be on "
              "its own stack when it exits", (unsigned long)t->tid,
              (void *)t->cur);
  if (t->altstack) {
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    os_free(t->altstack, 64 << 10);
    t->altstack = NULL;
  }
}

/* ------------------------------------------------------------- switch */

static mthread *current_thread(const char *call) {
  mcache *c = mcache_get();
  if (c == NULL || c->thr == NULL)
    sgc_fatal("%s: cannot register the calling thread (out of memory)", call);
  return c->thr;
}

/* Runs on the fiber we just switched to (possibly on another thread than
 * the one that switched away): finish the bookkeeping of the switch. */
static void after_switch(void) {
  mcache *c = sgc_tls_cache;
  mthread *t = c->thr;
#ifdef FIBER_ASAN
  __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
  if (t->dead) {
    sgc_fiber *d = t->dead;
    t->dead = NULL;
    sgc_lock(&fiber_lock);
    fiber_forget(d);
    sgc_unlock(&fiber_lock);
  }
  nopreempt_leave(c);
}

/* Switch from the running fiber of t to 'to'; returns when something
 * switches back.  No-preempt region entered by the caller. */
static void do_switch(mthread *t, sgc_fiber *from, sgc_fiber *to) {
  to->state = FIBER_RUNNING;
  to->thread = t;
  if (to->shrunk) { /* shrinking gave the canary's page back too */
    to->shrunk = 0;
    *(uintptr_t *)to->lo = canary(to);
  }
  t->cur = to;
  t->stack_lo = to->lo;
  t->stack_hi = to->hi;
#ifdef FIBER_ASAN
  __sanitizer_start_switch_fiber(NULL, (void *)to->lo, to->hi - to->lo);
#endif
#ifdef FIBER_TSAN
  __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
  fiber_swap(&from->sp, to->sp);
  after_switch();
}

/* A fiber inside sgc_call_without_collections holds the read hold of
 * the thread it entered the call on, counted in that thread's TLS (gc.c):
 * resumed on another thread, its fn would return there, drop the other
 * thread's count, and leave the hold taken for ever, every collection
 * waiting for it (helper-62: a fiber that returned on a second thread
 * hung the next collection).  So such a fiber resumes only where it
 * entered; the check is at the switch, before anything is lost.
 * A thread's own stack (its home fiber) runs on that thread only, and is
 * freed with the thread's record when fn unregisters the thread: not
 * counted.  The thread is known by its pthread_t, which a thread that
 * unregistered and registered again keeps. */
sgc_fiber *fiber_hold_begin(void) {
  mcache *c = sgc_tls_cache;
  if (c == NULL || c->thr == NULL || c->thr->cur == NULL ||
      c->thr->cur == &c->thr->home)
    return NULL;
  sgc_fiber *f = c->thr->cur;
  if (f->holds++ == 0)
    f->hold_tid = c->thr->tid;
  return f;
}

void fiber_hold_end(sgc_fiber *f) {
  if (f != NULL)
    f->holds--;
}

static void check_held_here(const char *call, mthread *t, sgc_fiber *to) {
  if (to->holds > 0 && !pthread_equal(to->hold_tid, t->tid))
    sgc_fatal("%s(%p): the fiber is inside sgc_call_without_collections, "
              "entered on thread %lu; it can only be resumed on that thread",
              call, (void *)to, (unsigned long)to->hold_tid);
}

static void check_target(const char *call, mthread *t, sgc_fiber *to) {
  if (to == NULL)
    sgc_fatal("%s(NULL): no fiber", call);
  if (to->magic == FIBER_HOME_MAGIC) {
    if (to->thread != t)
      sgc_fatal("%s(%p): that is the own stack of thread %lu; only that "
                "thread can switch to it", call, (void *)to,
                (unsigned long)to->thread->tid);
  } else if (to->magic != FIBER_MAGIC) {
    sgc_fatal("%s(%p): not a fiber", call, (void *)to);
  }
  if (to == t->cur)
    sgc_fatal("%s(%p): the fiber is the one running", call, (void *)to);
  if (to->state == FIBER_RUNNING)
    sgc_fatal("%s(%p): the fiber is running on another thread", call,
              (void *)to);
  if (to->state == FIBER_FINISHED)
    sgc_fatal("%s(%p): the fiber has finished", call, (void *)to);
  check_held_here(call, t, to);
}

void sgc_fiber_switch(sgc_fiber *to) {
  mthread *t = current_thread("sgc_fiber_switch");
  /* A blocking thread is scanned from the stack pointer it entered with,
   * on the stack it was running then: after a switch that pointer would
   * not be on the stack the thread runs (spangc.h forbids sgc_ calls in
   * the region; this one is cheap to check). */
  if (ATOMIC_LOAD_RELAXED(&t->state) == THR_BLOCKING)
    sgc_fatal("sgc_fiber_switch(%p): called inside a blocking region "
              "(sgc_enter_blocking); leave it first", (void *)to);
  if (unlikely(!t->altstack_checked))
    ensure_altstack(t);
  mcache *c = t->cache;
  nopreempt_enter(c);
  check_target("sgc_fiber_switch", t, to);
  sgc_fiber *from = t->cur;
  check_canary(from);
  from->state = FIBER_SUSPENDED;
  to->caller = from;
  do_switch(t, from, to);
}

/* The body of every fiber. */
__attribute__((noreturn, used)) void fiber_main(sgc_fiber *f) {
  after_switch();
  f->fn(f->arg);
  /* Back to the fiber that last switched to this one. */
  mcache *c = sgc_tls_cache;
  mthread *t = c->thr;
  nopreempt_enter(c);
  sgc_fiber *to = f->caller;
  if (to == NULL || to->state != FIBER_SUSPENDED ||
      (to->magic == FIBER_HOME_MAGIC && to->thread != t))
    sgc_fatal("fiber %p finished, but the fiber that last switched to it "
              "(%p) cannot be resumed here", (void *)f, (void *)to);
  check_held_here("the return of a fiber's function to", t, to);
  if (ATOMIC_LOAD_RELAXED(&t->state) == THR_BLOCKING)
    sgc_fatal("fiber %p finished inside a blocking region "
              "(sgc_enter_blocking); leave it first", (void *)f);
  check_canary(f);
  f->state = FIBER_FINISHED;
  /* A finished fiber needs neither: kept, they would keep every fiber and
   * argument of a chain of finished fibers the program still references
   * (fiber_finished_fibers_keep_neither_caller_nor_arg). */
  f->caller = NULL;
  f->arg = NULL;
  t->dead = f; /* its stack is freed once we are off it */
  sgc_lock(&fiber_lock);
  nfibers_finished++;
  sgc_unlock(&fiber_lock);
  do_switch(t, f, to);
  __builtin_unreachable();
}

/* One try at a fiber: its object, its stack, the first frame and the
 * registry entry.  NULL if out of memory; *nostack says the stack was
 * what failed (the object is then freed). */
static __attribute__((noinline)) sgc_fiber *
fiber_make(mthread *t, void (*fn)(void *), void *arg, size_t stack_size,
           bool *nostack) {
  *nostack = false;
  sgc_fiber *f = sgc_alloc(sizeof *f);
  if (f == NULL)
    return NULL;
  f->magic = FIBER_MAGIC;
  f->state = FIBER_CREATED;
  f->fn = fn;
  f->arg = arg;
  f->order = -1;
  f->regidx = UINT32_MAX;
  mcache *c = t->cache;
  nopreempt_enter(c);
  sgc_lock(&fiber_lock);
  bool ok = stack_alloc(f, stack_size + GUARD);
  *nostack = !ok;
  if (ok) {
    /* Build the first frame before the fiber is published in the
     * registry, where a collection may look at it.  The first switch pops
     * this frame and "returns" into fiber_entry with r12 = f and a 16-byte
     * aligned stack. */
    /* After the final ret, rsp is the 16-aligned top, so fiber_entry's
     * call leaves fiber_main with rsp = 8 (mod 16), as the ABI wants. */
    uintptr_t *sp = (uintptr_t *)((f->hi - 16) & ~(uintptr_t)15);
    *--sp = (uintptr_t)fiber_entry;   /* return address */
    *--sp = 0;                        /* rbp */
    *--sp = 0;                        /* rbx */
    *--sp = (uintptr_t)f;             /* r12 */
    *--sp = 0;                        /* r13 */
    *--sp = 0;                        /* r14 */
    *--sp = 0;                        /* r15 */
    *--sp = 0x037f00001f80ull;        /* mxcsr, x87 control word */
    f->sp = (uintptr_t)sp;
    ok = registry_add(f);
    if (!ok)
      stack_free(f);
  }
  if (ok)
    nfibers_created++;
  sgc_unlock(&fiber_lock);
  /* Its stack counts toward the next collection (gc_heap_pressure): the
   * trigger is looked at here, as an allocation's refill does. */
  if (ok)
    gc_maybe_collect(c);
  nopreempt_leave(c);
  if (!ok) {
    f->magic = 0;
    sgc_free(f);
    return NULL;
  }
#ifdef FIBER_TSAN
  f->tsan_fiber = __tsan_create_fiber(0);
#endif
  return f;
}

sgc_fiber *sgc_fiber_create(void (*fn)(void *), void *arg, size_t stack_size) {
  if (fn == NULL) {
    errno = EINVAL;
    return NULL;
  }
  if (stack_size == 0)
    stack_size = DEFAULT_STACK;
  if (stack_size > ((size_t)1 << 36)) {
    errno = ENOMEM;
    return NULL;
  }
  mthread *t = current_thread("sgc_fiber_create");
  pthread_once(&segv_once, segv_install);
  ensure_altstack(t);
  bool nostack;
  sgc_fiber *f = fiber_make(t, fn, arg, stack_size, &nostack);
  if (f == NULL && nostack) {
    /* No pages for the stack (past the max heap, which counts stacks, or
     * the page heap could not grow): collect, as an allocation would,
     * and try again.  The stack below this frame
     * is wiped first, the try's frame and whatever the frames before it
     * left: the switches into the fibers the program just dropped left
     * their addresses there, in slots the next frames laid over them do
     * not write (helper-55: under a max heap with room for one big
     * stack, a slot of the retry's frame kept the fiber dropped last,
     * and every other create failed). */
    stack_wipe_below(t, WIPE_BYTES);
    mcache *c = t->cache;
    uintptr_t npages = (stack_size + PAGE_SIZE - 1) >> PAGE_SHIFT;
    for (int tries = 0; f == NULL && nostack; tries++) {
      nopreempt_enter(c);
      bool again = gc_collect_for_room(c, npages, tries);
      nopreempt_leave(c);
      if (!again)
        break;
      f = fiber_make(t, fn, arg, stack_size, &nostack);
    }
  }
  if (f == NULL)
    errno = ENOMEM;
  return f;
}

sgc_fiber *sgc_fiber_self(void) {
  return current_thread("sgc_fiber_self")->cur;
}

int sgc_fiber_finished(const sgc_fiber *f) {
  return f != NULL && f->state == FIBER_FINISHED;
}

/* ---------------------------------------------------- collector hooks */

/* Suspended fiber f's stack is intact and its saved pointer inside it. */
static void check_stack(sgc_fiber *f) {
  check_canary(f);
  if (f->sp < f->lo || f->sp > f->hi)
    sgc_fatal("collect: fiber %p has a stack pointer %p outside its stack "
              "[%p, %p)", (void *)f, (void *)f->sp, (void *)f->lo,
              (void *)f->hi);
}

/* World stopped.  Scan every suspended fiber whose object is marked and
 * that was not scanned yet this cycle.  Returns true if any was. */
bool fibers_scan_marked(gcwork *w) {
  bool any = false;
  for (uint32_t i = 0; i < nreg; i++) {
    sgc_fiber *f = registry[i];
    if (f->scanned || f->state == FIBER_RUNNING)
      continue;
    if (!mark_is_marked((uintptr_t)f))
      continue;
    f->scanned = 1;
    check_stack(f);
    mark_push_range(w, f->sp, f->hi);
    any = true;
  }
  return any;
}

/* World stopped, finalization: obj, an unmarked object kept for its
 * finalizer, is scanned; if it is a suspended fiber, its stack is part of
 * what it references (it gets marked as doomed after the scanning passes,
 * so fibers_scan_marked would never see it). */
void fiber_scan_kept(gcwork *w, uintptr_t obj, size_t size) {
  sgc_fiber *f = (sgc_fiber *)obj;
  if (f->magic != FIBER_MAGIC || f->regidx >= nreg || registry[f->regidx] != f)
    return;
  if (f->scanned || f->state == FIBER_RUNNING)
    return;
  f->scanned = 1;
  check_stack(f);
  /* Every suspended stack holds pointers to its own fiber (fiber_main's
   * argument, saved registers): those do not make the fiber reachable,
   * or an ordered finalizer would never run on one. */
  mark_scan_range_except(w, f->sp, f->hi, obj, size);
}

bool fiber_bound_word(uintptr_t obj, size_t off) {
  const sgc_fiber *f = (const sgc_fiber *)obj;
  if (off != offsetof(sgc_fiber, sp) && off != offsetof(sgc_fiber, lo) &&
      off != offsetof(sgc_fiber, hi))
    return false;
  return f->magic == FIBER_MAGIC && f->regidx < nreg && registry[f->regidx] == f;
}

void fibers_reset_scanned(bool from_marks) {
  for (uint32_t i = 0; i < nreg; i++) {
    sgc_fiber *f = registry[i];
    f->scanned = from_marks && f->state != FIBER_RUNNING &&
                 mark_is_marked((uintptr_t)f);
  }
}

/* World stopped, mark complete: free the stacks of unreachable fibers,
 * shrink the idle ones, reset the scanned flags.  The idle stacks' pages
 * go back OS_RUNS at a time (an os_runs set: one call, one flush of the
 * TLBs, for the lot): 100000 idle fibers shrunk one call each held the
 * stop for seconds.  The set is not on the stack (it may be a fiber's). */
static os_runs shrunk_runs SGC_NOGC; /* world stopped */

void fibers_after_mark(uint64_t *released) {
  uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
  for (uint32_t i = 0; i < nreg;) {
    sgc_fiber *f = registry[i];
    f->scanned = 0;
    if (f->state != FIBER_RUNNING && !mark_is_marked((uintptr_t)f)) {
      fiber_forget(f); /* moves the last entry to i */
      continue;
    }
    if (f->state == FIBER_SUSPENDED && !f->shrunk &&
        (f->hi - f->sp) * 4 < f->hi - f->lo) {
      /* Everything below the page holding sp goes, the canary's page
       * too: the canary is written again when the fiber next runs. */
      uintptr_t keep = f->sp & ~(pg - 1);
      if (keep > f->lo) {
        os_runs_add(&shrunk_runs, f->lo, keep - f->lo);
        *released += keep - f->lo;
      }
      f->shrunk = 1;
    }
    i++;
  }
  os_runs_flush(&shrunk_runs);
}

/* Caller in a no-preempt region. */
void fiber_read_stats(sgc_stats *st) {
  sgc_lock(&fiber_lock);
  st->fibers_live = nreg;
  st->fibers_created = nfibers_created;
  st->fibers_finished = nfibers_finished;
  st->stack_pool_bytes = pool_bytes;
  st->stack_pool_free_bytes = pool_bytes - pool_used_bytes;
  sgc_unlock(&fiber_lock);
  st->stack_bytes = ATOMIC_LOAD_RELAXED(&sgc_heap.pages_stack) * PAGE_SIZE;
}

void fiber_pool_figures(uint64_t *pool, uint64_t *unused) {
  sgc_lock(&fiber_lock);
  *pool = pool_bytes;
  *unused = pool_bytes - pool_used_bytes;
  sgc_unlock(&fiber_lock);
}
