/*
 * signals.c — the suspend signal: which one it is, and keeping it ours.
 *
 * Stopping the world needs the suspend signal (SIGPWR unless
 * SPANGC_SUSPEND_SIGNAL or sgc_set_suspend_signal says otherwise) to reach
 * every registered thread and to run world.c's handler.  Programs fight
 * that without meaning to: servers block every signal in every thread, a
 * signal thread waits with sigwait on a full set (and would take our
 * signal for its own), a library installs its own SIGPWR handler.  So
 * this file interposes the C library's signal calls
 * (rule:suspend-signal-kept): the shared libraries (libspangc.so, libgc.so.1)
 * export them, the dynamic linker resolves the program's calls to them first,
 * and each forwards to the next definition (the C library's, or a sanitizer's
 * interceptor) with one change:
 *
 *   - masks (pthread_sigmask, sigprocmask, the temporary masks of
 *     ppoll, pselect, epoll_pwait[2]): a registered thread never blocks
 *     the suspend signal; other threads may;
 *   - handlers' masks (sigaction's sa_mask): never contain it, so a
 *     handler that runs for long can still be stopped;
 *   - the suspend signal's own action (sigaction, signal, sysv_signal,
 *     bsd_signal): once spangc has installed its handler, the program's
 *     action is recorded here instead, reported back by sigaction, and
 *     called by world.c's handler for every delivery that is not a stop
 *     (signals_chain);
 *   - waiting for signals (pause, sigsuspend, sigwait, sigwaitinfo,
 *     sigtimedwait): a registered thread waits inside a blocking region
 *     with the suspend signal held back (no stop needs to reach it, so the
 *     wait is never cut short by one), and never waits for the suspend
 *     signal itself; signalfd never reads it.
 *
 * The interposers win where the library comes before the C library in
 * the dynamic linker's search order: a program linked with -lspangc or
 * -lgc (the linker puts the C library last), a program linked with
 * libspangc.a, or LD_PRELOAD.  A program that gets libgc.so.1 only as
 * another library's dependency (guile: libguile needs it, and libc comes
 * first) calls the C library directly, as before.
 *
 * Locks: rec_lock (a spin lock taken with every signal blocked, never
 * held across a call into the runtime; ranked in lockrank.h) guards the writes
 * of the program's action record; readers (the signal handler) take none: they
 * copy the slot that rec_gen names, and a writer writes the next slot of a
 * ring.  The forwarding pointers are resolved once and published with atomics.
 * sus_sig is written once, by signals_init under sgc_init's lock, before the
 * handler is installed.
 */
#undef _FORTIFY_SOURCE /* its inline wrappers (ppoll) would clash with ours */
#include <dlfcn.h>
#include <gnu/lib-names.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>

#include "spangc-int.h"

#define EXPORT __attribute__((visibility("default")))
#define TLS_IE __attribute__((tls_model("initial-exec")))

int sgc_suspend_sig = SIGPWR;
static int chosen;     /* sgc_set_suspend_signal was called (before init) */
static int owned;      /* our handler is installed (atomic) */
static void (*our_handler)(int, siginfo_t *, void *);

/* ---------------------------------------------------------- the signal */

static const struct {
  const char *name;
  int sig;
} signal_names[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},
    {"ILL", SIGILL},     {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},
    {"BUS", SIGBUS},     {"FPE", SIGFPE},       {"KILL", SIGKILL},
    {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},     {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},     {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CONT", SIGCONT},
    {"STOP", SIGSTOP},   {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},   {"URG", SIGURG},       {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},   {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH}, {"IO", SIGIO},         {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

const char *signals_name(int sig, char *buf, size_t size) {
  for (size_t i = 0; i < sizeof signal_names / sizeof signal_names[0]; i++)
    if (signal_names[i].sig == sig) {
      snprintf(buf, size, "SIG%s", signal_names[i].name);
      return buf;
    }
  if (sig >= SIGRTMIN && sig <= SIGRTMAX)
    snprintf(buf, size, "SIGRTMIN+%d", sig - SIGRTMIN);
  else
    snprintf(buf, size, "signal %d", sig);
  return buf;
}

/* NULL if sig can be the suspend signal, else why not. */
static const char *unusable(int sig) {
  if (sig < 1 || sig >= NSIG)
    return "not a signal number";
  switch (sig) {
  case SIGKILL:
  case SIGSTOP:
    return "it cannot be caught";
  case SIGSEGV:
  case SIGBUS:
  case SIGFPE:
  case SIGILL:
  case SIGTRAP:
  case SIGSYS:
  case SIGABRT:
    return "it reports faults and aborts";
  }
  if (sig > SIGSYS && sig < SIGRTMIN)
    return "the C library keeps it for itself";
  return NULL;
}

/* "30", "SIGPWR", "PWR", "SIGRTMIN+3", "RTMAX-1" -> number; 0 if none. */
static int parse_signal(const char *s) {
  char *end;
  if (*s >= '0' && *s <= '9') {
    long v = strtol(s, &end, 10);
    return *end == 0 && v > 0 && v < 1000 ? (int)v : 0;
  }
  if (strncmp(s, "SIG", 3) == 0)
    s += 3;
  for (size_t i = 0; i < sizeof signal_names / sizeof signal_names[0]; i++)
    if (strcmp(s, signal_names[i].name) == 0)
      return signal_names[i].sig;
  int base = strncmp(s, "RTMIN", 5) == 0   ? SIGRTMIN
             : strncmp(s, "RTMAX", 5) == 0 ? SIGRTMAX
                                           : 0;
  if (base == 0)
    return 0;
  s += 5;
  if (*s == 0)
    return base;
  if (*s != '+' && *s != '-')
    return 0;
  long v = strtol(s + 1, &end, 10);
  if (*end != 0 || s[1] < '0' || s[1] > '9' || v > 64)
    return 0;
  return *s == '+' ? base + (int)v : base - (int)v;
}

int sgc_set_suspend_signal(int sig) {
  if (unusable(sig))
    return EINVAL;
  if (ATOMIC_LOAD(&owned))
    return sig == sgc_suspend_sig ? 0 : EBUSY;
  sgc_suspend_sig = sig;
  chosen = 1;
  return 0;
}

int sgc_get_suspend_signal(void) {
  if (!ATOMIC_LOAD(&owned) && !chosen) {
    /* What sgc_init will pick. */
    const char *e = sgc_option("SPANGC_SUSPEND_SIGNAL");
    int sig = e && *e ? parse_signal(e) : 0;
    if (sig && !unusable(sig))
      return sig;
  }
  return sgc_suspend_sig;
}

/* --------------------------------------------------------- forwarding */

/* A sanitizer's interceptor (weak aliases by the plain name, which our
 * definitions override in a statically linked test) comes first; else
 * the next object's definition: the C library's (or, when this library
 * was loaded after the C library, the C library's by name). */
#define DECLARE_NEXT(name)                                                     \
  extern __typeof__(name) __interceptor_##name __attribute__((weak));          \
  static void *next_##name
DECLARE_NEXT(pthread_sigmask);
DECLARE_NEXT(sigprocmask);
DECLARE_NEXT(sigaction);
DECLARE_NEXT(signal);
DECLARE_NEXT(sigsuspend);
DECLARE_NEXT(pause);
DECLARE_NEXT(sigwait);
DECLARE_NEXT(sigwaitinfo);
DECLARE_NEXT(sigtimedwait);
DECLARE_NEXT(signalfd);
DECLARE_NEXT(ppoll);
DECLARE_NEXT(pselect);
DECLARE_NEXT(epoll_pwait);
DECLARE_NEXT(epoll_pwait2);
DECLARE_NEXT(sysv_signal);
static void *next___sysv_signal;

/* Set by our constructor.  Before it, the caller may be a sanitizer's
 * runtime setting itself up (it runs first, from the program's
 * preinit_array, and installs its handlers with sigaction): its
 * interceptors are not ready, and it wants the C library itself. */
static int constructed;

static void *lookup_libc(const char *name) {
  void *f = dlsym(RTLD_NEXT, name);
  if (f == NULL) {
    /* Nothing after us: we were loaded after the C library (a library
     * that another library needs, as libguile needs libgc), so the
     * program's calls go to the C library directly; ours still need it. */
    void *libc = dlopen(LIBC_SO, RTLD_LAZY | RTLD_NOLOAD);
    if (libc != NULL)
      f = dlsym(libc, name);
  }
  return f;
}

/* A sanitizer's interceptors are ours to call only when they live in the
 * same object as our interposers (a sanitized program linked with
 * libspangc.a: ours replace the interceptors' weak aliases, so the
 * program's calls reach us first).  When we are a shared library, the
 * program's calls reach the interceptors first, and they forward to us
 * (the next definition): calling them again would loop. */
static int use_interceptors;
/* ThreadSanitizer's interceptors call us (we are their "real" function):
 * whatever we do inside one it does not see (our locks included), so the
 * signal waits do not enter a blocking region there; TSan hands the
 * signal to our handler at once inside such a wait anyway. */
static int behind_tsan;
extern void __tsan_init(void) __attribute__((weak));

static void *resolve_soft(void **slot, const char *name, void *interceptor) {
  if (!__atomic_load_n(&constructed, __ATOMIC_ACQUIRE))
    return lookup_libc(name);
  void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  if (f != NULL)
    return f;
  f = interceptor && use_interceptors ? interceptor : lookup_libc(name);
  if (f != NULL)
    __atomic_store_n(slot, f, __ATOMIC_RELEASE);
  return f;
}

static void *resolve(void **slot, const char *name, void *interceptor) {
  void *f = resolve_soft(slot, name, interceptor);
  if (f == NULL)
    sgc_fatal("cannot find the C library's %s, to which spangc's %s "
              "forwards (a fully static program?)", name, name);
  return f;
}

#define NEXT(name)                                                             \
  ((__typeof__(&name))resolve(&next_##name, #name,                             \
                              (void *)__interceptor_##name))

/* Resolved when the library is loaded, so that a signal handler's first
 * call does not run dlsym; what is missing then is fatal only if used. */
#define PRELOAD(name)                                                          \
  (void)resolve_soft(&next_##name, #name, (void *)__interceptor_##name)
__attribute__((constructor)) static void resolve_all(void) {
  Dl_info mine, theirs;
  if (__interceptor_sigaction != NULL &&
      dladdr((void *)__interceptor_sigaction, &theirs) &&
      dladdr((void *)&resolve_all, &mine))
    use_interceptors = mine.dli_fbase == theirs.dli_fbase;
  behind_tsan = __interceptor_sigaction != NULL && !use_interceptors &&
                __tsan_init != NULL;
  __atomic_store_n(&constructed, 1, __ATOMIC_RELEASE);
  PRELOAD(pthread_sigmask);
  PRELOAD(sigprocmask);
  PRELOAD(sigaction);
  PRELOAD(signal);
  PRELOAD(sigsuspend);
  PRELOAD(pause);
  PRELOAD(sigwait);
  PRELOAD(sigwaitinfo);
  PRELOAD(sigtimedwait);
  PRELOAD(signalfd);
  PRELOAD(ppoll);
  PRELOAD(pselect);
  PRELOAD(epoll_pwait);
  PRELOAD(epoll_pwait2);
}

/* ------------------------------------------------ the program's action */

#define NREC 8
static struct sigaction rec[NREC];
static unsigned rec_gen; /* atomic: rec[rec_gen % NREC] is current */
static sgc_spinlock rec_lock = SGC_SPINLOCK_INIT(REC); /* writers */

static void rec_begin(sigset_t *old) {
  sigset_t all;
  sigfillset(&all);
  NEXT(pthread_sigmask)(SIG_SETMASK, &all, old);
  LOCKRANK_ACQUIRE(&rec_lock, rec_lock.rank, false);
  unsigned n = 0;
  while (__atomic_exchange_n(&rec_lock.v, 1, __ATOMIC_ACQUIRE))
    os_wait_step(&n);
}

static void rec_end(const sigset_t *old) {
  __atomic_store_n(&rec_lock.v, 0, __ATOMIC_RELEASE);
  LOCKRANK_RELEASE(&rec_lock, rec_lock.rank);
  NEXT(pthread_sigmask)(SIG_SETMASK, old, NULL);
}

static void rec_load(struct sigaction *a) {
  *a = rec[ATOMIC_LOAD(&rec_gen) % NREC];
}

static void rec_store(const struct sigaction *a) {
  unsigned g = rec_gen + 1;
  rec[g % NREC] = *a;
  ATOMIC_STORE(&rec_gen, g);
}

/* In the child of fork() only the forking thread exists: a writer lock
 * another thread held is nobody's. */
void signals_atfork_child(void) { rec_lock.v = 0; }

static __thread int chain_depth TLS_IE;
static __thread int chain_again TLS_IE;

/* A delivery of the suspend signal that is not a stop: what the program's
 * action would have done.  SIG_DFL and SIG_IGN: nothing (the default
 * action, termination, does not happen while spangc owns the signal).
 * The program's handler runs with its sa_mask added and the suspend
 * signal unblocked (so a stop still reaches the thread); a further
 * delivery meanwhile runs it again afterwards, as the kernel would. */
void signals_chain(int sig, siginfo_t *si, void *uc) {
  if (chain_depth) {
    chain_again = 1;
    return;
  }
  chain_depth = 1;
  do {
    chain_again = 0;
    struct sigaction a;
    rec_load(&a);
    if (!(a.sa_flags & SA_SIGINFO) &&
        (a.sa_handler == SIG_DFL || a.sa_handler == SIG_IGN))
      break;
    if (a.sa_flags & SA_RESETHAND) {
      sigset_t old;
      rec_begin(&old);
      struct sigaction d;
      memset(&d, 0, sizeof d);
      d.sa_handler = SIG_DFL;
      rec_store(&d);
      rec_end(&old);
    }
    sigset_t old, unblock;
    NEXT(pthread_sigmask)(SIG_BLOCK, &a.sa_mask, &old);
    sigemptyset(&unblock);
    sigaddset(&unblock, sgc_suspend_sig);
    NEXT(pthread_sigmask)(SIG_UNBLOCK, &unblock, NULL);
    if (a.sa_flags & SA_SIGINFO)
      a.sa_sigaction(sig, si, uc);
    else
      a.sa_handler(sig);
    NEXT(pthread_sigmask)(SIG_SETMASK, &old, NULL);
  } while (chain_again);
  chain_depth = 0;
}

/* The sigaction that a program's call reaches: through a sanitizer's
 * interceptor if there is one (it must see and wrap our handler), else
 * the C library's.  Our own interposer forwards such calls while the
 * signal is not yet ours. */
static int (*installer(void))(int, const struct sigaction *,
                              struct sigaction *) {
  void *f = use_interceptors ? NULL : dlsym(RTLD_DEFAULT, "sigaction");
  return f ? (int (*)(int, const struct sigaction *, struct sigaction *))f
           : NEXT(sigaction);
}

/* 1 if our handler is still the one installed, 0 if something replaced
 * it behind our back (a raw rt_sigaction system call), -1 if unknown
 * (a sanitizer's interceptor stands between us and the kernel). */
int signals_handler_intact(void) {
  struct sigaction a;
  if (__interceptor_sigaction != NULL && !use_interceptors)
    return -1;
  if (NEXT(sigaction)(sgc_suspend_sig, NULL, &a) != 0)
    return -1;
  return (a.sa_flags & SA_SIGINFO) && a.sa_sigaction == our_handler;
}

/* ---------------------------------------------------------------- init */

void signals_init(void (*handler)(int, siginfo_t *, void *)) {
  if (!chosen) {
    const char *e = sgc_option("SPANGC_SUSPEND_SIGNAL");
    if (e && *e) {
      int sig = parse_signal(e);
      if (sig == 0)
        sgc_fatal("SPANGC_SUSPEND_SIGNAL=%s: not a signal (give a number, "
                  "a name such as SIGUSR2, or SIGRTMIN+n)", e);
      const char *why = unusable(sig);
      if (why)
        sgc_fatal("SPANGC_SUSPEND_SIGNAL=%s: signal %d cannot stop threads: "
                  "%s", e, sig, why);
      sgc_suspend_sig = sig;
    }
  }
  int sus = sgc_suspend_sig;
  struct sigaction sa, prev;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  int (*install)(int, const struct sigaction *, struct sigaction *) =
      installer();
  sigset_t old;
  rec_begin(&old);
  /* What the program installed before us is its action from now on. */
  int r = install(sus, NULL, &prev);
  if (r == 0) {
    sigdelset(&prev.sa_mask, sus);
    rec_store(&prev);
    r = install(sus, &sa, NULL);
  }
  if (r == 0) {
    our_handler = handler;
    ATOMIC_STORE(&owned, 1);
  }
  rec_end(&old);
  if (r != 0) {
    char name[32];
    sgc_fatal("sgc_init: cannot install the suspend signal's handler (%s)",
              signals_name(sus, name, sizeof name));
  }
  /* Handlers installed before us must not hold the signal back either. */
  for (int s = 1; s < NSIG; s++) {
    struct sigaction a;
    if (s == sus || s == SIGKILL || s == SIGSTOP ||
        install(s, NULL, &a) != 0)
      continue;
    if (sigismember(&a.sa_mask, sus) == 1) {
      sigdelset(&a.sa_mask, sus);
      install(s, &a, NULL);
    }
  }
}

/* The calling thread (being registered) can be stopped. */
void signals_block_program(sigset_t *old) {
  sigset_t s;
  sigfillset(&s);
  static const int sync[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP,
                             SIGSYS};
  for (size_t k = 0; k < sizeof sync / sizeof sync[0]; k++)
    sigdelset(&s, sync[k]);
  if (sgc_suspend_sig > 0)
    sigdelset(&s, sgc_suspend_sig);
  NEXT(pthread_sigmask)(SIG_SETMASK, &s, old);
}

void signals_restore_mask(const sigset_t *old) {
  NEXT(pthread_sigmask)(SIG_SETMASK, old, NULL);
}

void signals_unblock_suspend(void) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sgc_suspend_sig);
  NEXT(pthread_sigmask)(SIG_UNBLOCK, &s, NULL);
}

/* ---------------------------------------------------------- interposers */

static inline bool registered(void) {
  mcache *c = sgc_tls_cache;
  return c != NULL && c->thr != NULL;
}

/* set, or a copy of it without the suspend signal in *copy. */
static const sigset_t *without_suspend(const sigset_t *set, sigset_t *copy) {
  if (set == NULL || sigismember(set, sgc_suspend_sig) != 1)
    return set;
  *copy = *set;
  sigdelset(copy, sgc_suspend_sig);
  return copy;
}

EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old) {
  sigset_t copy;
  if (how != SIG_UNBLOCK && registered())
    set = without_suspend(set, &copy);
  return NEXT(pthread_sigmask)(how, set, old);
}

EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old) {
  sigset_t copy;
  if (how != SIG_UNBLOCK && registered())
    set = without_suspend(set, &copy);
  return NEXT(sigprocmask)(how, set, old);
}

/* The suspend signal's action, once ours is installed: the program's
 * record.  Returns false if the call is to go to the C library. */
static bool own_action(int sig, const struct sigaction *act,
                       struct sigaction *old) {
  if (sig != sgc_suspend_sig || !ATOMIC_LOAD(&owned))
    return false;
  sigset_t m;
  rec_begin(&m);
  struct sigaction prev;
  rec_load(&prev);
  if (act) {
    struct sigaction a = *act;
    sigdelset(&a.sa_mask, sig);
    rec_store(&a);
  }
  rec_end(&m);
  if (old)
    *old = prev;
  return true;
}

EXPORT int sigaction(int sig, const struct sigaction *act,
                     struct sigaction *old) {
  if (own_action(sig, act, old))
    return 0;
  struct sigaction copy;
  if (act && sigismember(&act->sa_mask, sgc_suspend_sig) == 1) {
    copy = *act;
    sigdelset(&copy.sa_mask, sgc_suspend_sig);
    act = &copy;
  }
  return NEXT(sigaction)(sig, act, old);
}

/* signal() and its variants for the suspend signal: the C library would
 * install the handler directly, so record it as sigaction does. */
static bool own_signal(int sig, __sighandler_t h, int flags,
                       __sighandler_t *prev) {
  struct sigaction a, old;
  memset(&a, 0, sizeof a);
  a.sa_handler = h;
  a.sa_flags = flags;
  sigemptyset(&a.sa_mask);
  if (!own_action(sig, &a, &old))
    return false;
  *prev = (old.sa_flags & SA_SIGINFO)
              ? (__sighandler_t)(void *)old.sa_sigaction
              : old.sa_handler;
  return true;
}

EXPORT __sighandler_t signal(int sig, __sighandler_t h) {
  __sighandler_t prev;
  if (own_signal(sig, h, SA_RESTART, &prev))
    return prev;
  return NEXT(signal)(sig, h);
}

EXPORT __sighandler_t bsd_signal(int sig, __sighandler_t h) {
  return signal(sig, h);
}

EXPORT __sighandler_t sysv_signal(int sig, __sighandler_t h) {
  __sighandler_t prev;
  if (own_signal(sig, h, SA_RESETHAND | SA_NODEFER, &prev))
    return prev;
  return NEXT(sysv_signal)(sig, h);
}

/* What signal() is under strict ISO C (-std=c11 without _DEFAULT_SOURCE). */
EXPORT __sighandler_t __sysv_signal(int sig, __sighandler_t h) {
  __sighandler_t prev;
  if (own_signal(sig, h, SA_RESETHAND | SA_NODEFER, &prev))
    return prev;
  return ((__sighandler_t(*)(int, __sighandler_t))resolve(
      &next___sysv_signal, "__sysv_signal", NULL))(sig, h);
}

/* Waiting for signals.  A registered thread that can (not inside the
 * runtime, from a handler that interrupted it) waits in a blocking region,
 * with the suspend signal held back: no stop needs to reach it, and one
 * already sent (acknowledged on entering the region) is taken and ignored
 * after the wait.  Returns: 0 nothing done (not registered), 1 in a
 * region we entered, 2 in a region already entered, -1 registered but
 * busy (the signal must stay deliverable). */
typedef struct {
  int how;
  sigset_t old;
} wait_state;

static void wait_enter(wait_state *w, bool block) {
  mcache *c = sgc_tls_cache;
  w->how = 0;
  if (c == NULL || c->thr == NULL)
    return;
  if (behind_tsan) {
    w->how = -1;
    return;
  } else if (c->thr->state == THR_BLOCKING) {
    w->how = 2;
  } else if (c->nopreempt == 0 && !world_in_collector) {
    sgc_enter_blocking();
    w->how = 1;
  } else {
    w->how = -1;
    return;
  }
  if (block) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sgc_suspend_sig);
    NEXT(pthread_sigmask)(SIG_BLOCK, &s, &w->old);
  }
}

static void wait_leave(wait_state *w, bool block) {
  int e = errno;
  if (w->how > 0 && block)
    NEXT(pthread_sigmask)(SIG_SETMASK, &w->old, NULL);
  if (w->how == 1)
    sgc_exit_blocking();
  errno = e;
}

EXPORT int sigsuspend(const sigset_t *mask) {
  wait_state w;
  wait_enter(&w, false);
  sigset_t m;
  if (w.how > 0) {
    m = *mask;
    sigaddset(&m, sgc_suspend_sig);
    mask = &m;
  } else if (w.how < 0) {
    mask = without_suspend(mask, &m);
  }
  int r = NEXT(sigsuspend)(mask);
  wait_leave(&w, false);
  return r;
}

EXPORT int pause(void) {
  wait_state w;
  wait_enter(&w, true);
  int r = NEXT(pause)();
  wait_leave(&w, true);
  return r;
}

EXPORT int sigwait(const sigset_t *set, int *sig) {
  sigset_t copy;
  if (registered())
    set = without_suspend(set, &copy);
  wait_state w;
  wait_enter(&w, true);
  int r = NEXT(sigwait)(set, sig);
  wait_leave(&w, true);
  return r;
}

EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info) {
  sigset_t copy;
  if (registered())
    set = without_suspend(set, &copy);
  wait_state w;
  wait_enter(&w, true);
  int r = NEXT(sigwaitinfo)(set, info);
  wait_leave(&w, true);
  return r;
}

EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info,
                        const struct timespec *timeout) {
  sigset_t copy;
  if (registered())
    set = without_suspend(set, &copy);
  wait_state w;
  wait_enter(&w, true);
  int r = NEXT(sigtimedwait)(set, info, timeout);
  wait_leave(&w, true);
  return r;
}

/* Any thread may read the descriptor later: never with the signal. */
EXPORT int signalfd(int fd, const sigset_t *mask, int flags) {
  sigset_t copy;
  return NEXT(signalfd)(fd, without_suspend(mask, &copy), flags);
}

/* Waits with a temporary mask: the suspend signal stays deliverable in a
 * registered thread (a stop makes them return EINTR, as any handled
 * signal does; see spangc.h). */
EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t,
                 const sigset_t *mask) {
  sigset_t copy;
  if (registered())
    mask = without_suspend(mask, &copy);
  return NEXT(ppoll)(fds, n, t, mask);
}

EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *x,
                   const struct timespec *t, const sigset_t *mask) {
  sigset_t copy;
  if (registered())
    mask = without_suspend(mask, &copy);
  return NEXT(pselect)(n, r, w, x, t, mask);
}

EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int t,
                       const sigset_t *mask) {
  sigset_t copy;
  if (registered())
    mask = without_suspend(mask, &copy);
  return NEXT(epoll_pwait)(epfd, ev, max, t, mask);
}

EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int max,
                        const struct timespec *t, const sigset_t *mask) {
  sigset_t copy;
  if (registered())
    mask = without_suspend(mask, &copy);
  return NEXT(epoll_pwait2)(epfd, ev, max, t, mask);
}
