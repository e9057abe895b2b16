/* check.h — the tests' assertions.  A failed CHECK prints the file, line,
 * expression and an optional message, then exits 1 (ctest counts it). */
#ifndef SPANGC_TEST_CHECK_H
#define SPANGC_TEST_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                               \
  do {                                                                         \
    if (!(c)) {                                                                \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c);   \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

#define CHECKF(c, ...)                                                         \
  do {                                                                         \
    if (!(c)) {                                                                \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #c);   \
      fprintf(stderr, __VA_ARGS__);                                            \
      fputc('\n', stderr);                                                     \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

/* Run this program again as "self arg" with stderr captured into out
 * (NUL-terminated); returns the wait status.  For tests whose cases must
 * abort: the parent checks the signal and the message. */
#include <sys/wait.h>
#include <unistd.h>
static inline int run_self(const char *self, const char *arg, char *out,
                           size_t size) {
  int fds[2];
  CHECK(pipe(fds) == 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 2);
    close(fds[0]);
    execl("/proc/self/exe", self, arg, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  size_t len = 0;
  ssize_t r;
  while (len < size - 1 && (r = read(fds[0], out + len, size - 1 - len)) > 0)
    len += (size_t)r;
  out[len] = 0;
  close(fds[0]);
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  return status;
}

/* The sanitizer a test is built with (clang says so with __has_feature,
 * gcc with __SANITIZE_*__): TEST_TSAN and TEST_ASAN are 1 or 0. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEST_TSAN 1
#endif
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#if !defined(TEST_TSAN) && defined(__SANITIZE_THREAD__)
#define TEST_TSAN 1
#endif
#if !defined(TEST_ASAN) && defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#endif
#ifndef TEST_TSAN
#define TEST_TSAN 0
#endif
#ifndef TEST_ASAN
#define TEST_ASAN 0
#endif

/* Scale for long-running loops: sanitizer builds set SPANGC_TEST_SCALE
 * below 1 so the suite stays within its time budget. */
static inline double test_scale(void) {
  const char *e = getenv("SPANGC_TEST_SCALE");
  double s = e ? atof(e) : 1.0;
  return s > 0 ? s : 1.0;
}
/* SPANGC_DEBUG=verify=1: the library's verifier is on, as the library
 * itself reads the variable (gc.c, sgc_debug_flag). */
_Bool sgc_debug_flag(const char *name);
static inline int test_verifying(void) { return sgc_debug_flag("verify"); }
static inline long scaled(long n) {
  long m = (long)(n * test_scale());
  return m > 0 ? m : 1;
}

/* OS pages of [p, p+n) the kernel has resident (mincore). */
#include <stdint.h>
#include <sys/mman.h>
static inline size_t resident_pages(const void *p, size_t n) {
  size_t pg = (size_t)sysconf(_SC_PAGESIZE);
  uintptr_t lo = (uintptr_t)p & ~(uintptr_t)(pg - 1);
  uintptr_t hi = ((uintptr_t)p + n + pg - 1) & ~(uintptr_t)(pg - 1);
  size_t npg = (hi - lo) / pg;
  unsigned char *vec = malloc(npg);
  CHECK(vec != NULL);
  CHECK(mincore((void *)lo, hi - lo, vec) == 0);
  size_t r = 0;
  for (size_t i = 0; i < npg; i++)
    r += vec[i] & 1;
  free(vec);
  return r;
}

/* The running kernel is at least major.minor (uname). */
#include <errno.h>
#include <sys/utsname.h>
static inline int kernel_at_least(int major, int minor) {
  struct utsname u;
  int ma = 0, mi = 0;
  CHECK(uname(&u) == 0);
  CHECK(sscanf(u.release, "%d.%d", &ma, &mi) == 2);
  return ma > major || (ma == major && mi >= minor);
}

/* Whether a count of release calls (os_release_runs batches) can be held
 * to: Linux 6.16 or later, and no seccomp filter refused the one call
 * (EPERM, ENOSYS there); says so when not.  Any other refusal on such a
 * kernel is left to the caller's check to fail. */
static inline int release_batching_expected(int refusal) {
  if (!kernel_at_least(6, 16)) {
    printf("kernel before 6.16: runs released one by one, count not "
           "checked\n");
    return 0;
  }
  if (refusal == EPERM || refusal == ENOSYS) {
    printf("process_madvise refused (errno %d: a seccomp filter?): runs "
           "released one by one, count not checked\n", refusal);
    return 0;
  }
  return 1;
}
#endif
