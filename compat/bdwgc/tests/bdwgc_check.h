/* bdwgc_check.h — small helpers shared by the bdwgc API tests.
 *
 * These tests are written against the bdwgc 8.2 public headers only, so
 * that each of them builds and passes with the stock libgc as well as with
 * spangc's libgc.so.1 (run-against-stock.sh checks the former).  They must
 * therefore not include spangc's own tests/check.h.
 *
 * Conventions used by the tests:
 *  - CHECK(cond, fmt, ...) prints "FAIL file:line: cond: message" on
 *    stderr and exits 1.
 *  - Objects whose death is to be observed are created in a NOINLINE
 *    function; afterwards clear_stack() overwrites the dead frames so that
 *    stale copies of their addresses do not keep them alive by accident.
 *  - Variables that serve as roots are not static: the compiler may drop
 *    the stores to a static array that is never read.
 *  - "Must die" checks are statistical (DEAD_FRACTION of many objects);
 *    "must live" checks are exact.
 */
#ifndef BDWGC_CHECK_H
#define BDWGC_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

/* BDWGC_SANITIZED: built with AddressSanitizer or ThreadSanitizer (gcc
 * says so with __SANITIZE_*__, clang with __has_feature).  Fork children
 * of such builds only exit: the sanitizer's allocator is not fork-safe (a
 * lock another thread held at the fork stays held in the child). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BDWGC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BDWGC_SANITIZED 1
#endif
#endif
#ifndef BDWGC_SANITIZED
#define BDWGC_SANITIZED 0
#endif

#define CHECK(cond, ...)                                                      \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);         \
      fprintf(stderr, __VA_ARGS__);                                           \
      fputc('\n', stderr);                                                    \
      fflush(stderr);                                                         \
      exit(1);                                                                \
    }                                                                         \
  } while (0)

/* The fraction of unreachable objects that must be found dead. */
#define DEAD_FRACTION 0.9

/* At least DEAD_FRACTION of total. */
static inline int mostly(long count, long total) {
  return (double)count >= DEAD_FRACTION * (double)total;
}

/* Overwrite a large part of the stack below the caller's frame, and with
 * it any stale pointers left there by functions that have returned. */
static NOINLINE __attribute__((unused)) void clear_stack(void) {
  volatile char buf[128 * 1024];
  memset((char *)buf, 0, sizeof buf);
  __asm__ __volatile__("" : : "r"(buf) : "memory");
}

/* Keep the compiler from dropping a pointer before this point. */
#define KEEP(p) __asm__ __volatile__("" : : "r"(p) : "memory")

/* A recognisable fill: byte i of object number id. */
static inline unsigned char pattern_byte(size_t id, size_t i) {
  return (unsigned char)((id * 131u + i * 7u + 0x5au) & 0xff);
}
static inline void fill_pattern(void *p, size_t n, size_t id) {
  unsigned char *b = (unsigned char *)p;
  for (size_t i = 0; i < n; i++) b[i] = pattern_byte(id, i);
}
/* Returns the index of the first wrong byte, or -1 if all are right. */
static inline long check_pattern(const void *p, size_t n, size_t id) {
  const unsigned char *b = (const unsigned char *)p;
  for (size_t i = 0; i < n; i++)
    if (b[i] != pattern_byte(id, i)) return (long)i;
  return -1;
}

static inline int all_zero(const void *p, size_t n) {
  const unsigned char *b = (const unsigned char *)p;
  for (size_t i = 0; i < n; i++)
    if (b[i]) return 0;
  return 1;
}

/* Helpers that need gc.h (include it before this header). */
#ifdef GC_H
/* Watch an object without keeping it alive: *slot holds obj's hidden
 * address and is registered as a disappearing link to obj, so it reads 0
 * once the collector has found obj unreachable. */
static inline void watch(GC_hidden_pointer *slot, void *obj) {
  *slot = GC_HIDE_POINTER(obj);
  int r = GC_general_register_disappearing_link((void **)slot, obj);
  CHECK(r == GC_SUCCESS, "GC_general_register_disappearing_link returned %d",
        r);
}
static inline long count_cleared(const GC_hidden_pointer *slots, long n) {
  long c = 0;
  for (long i = 0; i < n; i++) c += slots[i] == 0;
  return c;
}
/* rounds x (full collection, then run whatever finalizers are ready). */
static inline void collect(int rounds) {
  for (int i = 0; i < rounds; i++) {
    GC_gcollect();
    GC_invoke_finalizers();
  }
}
#endif

/* Runs this program again as "self mode" (with the environment variable
 * env, "NAME=value", set if not NULL), its stdout and stderr read into
 * out (NUL-terminated, at most cap - 1 bytes).  Returns its wait status.
 * For reports a library prints on stderr. */
#include <sys/wait.h>
#include <unistd.h>
static __attribute__((unused)) int run_self_capture(const char *mode,
                                                    const char *env,
                                                    char *out, size_t cap) {
  int fd[2];
  CHECK(pipe(fd) == 0, "pipe");
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  CHECK(pid >= 0, "fork");
  if (pid == 0) {
    dup2(fd[1], 1);
    dup2(fd[1], 2);
    close(fd[0]);
    close(fd[1]);
    if (env)
      putenv((char *)env);
    execl("/proc/self/exe", "self", mode, (char *)NULL);
    _exit(127);
  }
  close(fd[1]);
  size_t n = 0;
  ssize_t r = 0;
  char rest[4096];
  while (n < cap - 1 && (r = read(fd[0], out + n, cap - 1 - n)) > 0)
    n += (size_t)r;
  while (read(fd[0], rest, sizeof rest) > 0) /* past cap: dropped */
    ;
  out[n] = 0;
  close(fd[0]);
  int st;
  CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
  return st;
}

/* Lines of s (from start up to end, or its end) that contain each of
 * the given strings (NULL-terminated). */
static __attribute__((unused)) int count_lines(const char *start,
                                               const char *end,
                                               const char *const *needles) {
  int n = 0;
  for (const char *l = start; *l && (!end || l < end);) {
    const char *e = strchr(l, '\n');
    size_t len = e ? (size_t)(e - l) : strlen(l);
    char line[512];
    size_t m = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, l, m);
    line[m] = 0;
    int all = 1;
    for (const char *const *q = needles; *q; q++)
      all &= strstr(line, *q) != NULL;
    n += all;
    l += len + (e != NULL);
  }
  return n;
}

#define PASS(name)                                                            \
  do {                                                                        \
    printf("%s: ok\n", name);                                                 \
    return 0;                                                                 \
  } while (0)

#endif
