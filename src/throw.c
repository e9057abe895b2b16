/*
 * throw.c — fatal errors, warnings and failed invariants.
 *
 * Owns no shared state.  Messages are formatted into a stack buffer and
 * written with one write(2), so they stay whole even when several threads
 * fail at once, and no allocation happens on the way down.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "spangc-int.h"

/* All of buf to fd, retrying after a signal interrupts write (a stop
 * may land in this thread, or the program's signal). */
void sgc_write_all(int fd, const char *buf, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    buf += w;
    n -= (size_t)w;
  }
}

static void vmessage(const char *prefix, const char *fmt, va_list ap) {
  char buf[512];
  int n = snprintf(buf, sizeof buf, "spangc: %s", prefix);
  if (n < 0)
    n = 0;
  int m = vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
  if (m > 0)
    n += m;
  if ((size_t)n > sizeof buf - 2)
    n = (int)sizeof buf - 2;
  buf[n++] = '\n';
  sgc_write_all(2, buf, (size_t)n);
}

_Noreturn void sgc_fatal(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage("fatal: ", fmt, ap);
  va_end(ap);
  abort();
}

void sgc_warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage("warning: ", fmt, ap);
  va_end(ap);
}

_Noreturn void sgc_throw_assert(const char *cond, const char *file, int line) {
  sgc_fatal("invariant failed: %s (%s:%d)", cond, file, line);
}

void sgc_mutex_init(sgc_mutex *m, int rank) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
#ifdef PTHREAD_MUTEX_ADAPTIVE_NP
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
  pthread_mutex_init(&m->m, &a);
  m->rank = rank;
  m->waiters = 0;
  pthread_mutexattr_destroy(&a);
}
