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

/* Scale for long-running loops: sanitizer builds set SPANGC_TEST_SCALE
 * below 1 so the suite stays within its time budget. */
static inline double test_scale(void) {
  const char *e = getenv("SPANGC_TEST_SCALE");
  double s = e ? atof(e) : 1.0;
  return s > 0 ? s : 1.0;
}
static inline long scaled(long n) {
  long m = (long)(n * test_scale());
  return m > 0 ? m : 1;
}
#endif
