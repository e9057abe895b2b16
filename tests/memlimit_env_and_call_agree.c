// labels: api gc
/* SPANGC_MEMLIMIT and sgc_set_memory_limit agree: each accepted spelling
 * (plain bytes, K/M/G, KiB/MiB/GiB, 0 for none) gives the same
 * sgc_stats.memory_limit as the call with the same bytes, and the call
 * returns the previous limit; a bad value (unknown suffix, no digits,
 * sign, fraction, overflow) stops the program at start with a message
 * naming the variable and the accepted forms; with gctrace the limit is
 * shown at start and when it lowered a goal. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"

static const struct {
  const char *env;
  unsigned long long bytes;
} good[] = {
    {"1048576", 1048576ull},    {"0", 0},
    {"512k", 512ull << 10},     {"512K", 512ull << 10},
    {"160M", 160ull << 20},     {"160MiB", 160ull << 20},
    {"2G", 2ull << 30},         {"3GiB", 3ull << 30},
    {"64KiB", 64ull << 10},
};
static const char *bad[] = {"12X", "MiB", "-5", "1.5G", "160 MiB", "160MB",
                            "99999999999999999999", "20000000000G", "0x10"};

/* The child: report what the environment set, then check the call. */
static int child_report(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  unsigned long long env = st.memory_limit;
  CHECK(sgc_set_memory_limit(12345) == env);
  sgc_read_stats(&st);
  CHECK(st.memory_limit == 12345);
  CHECK(sgc_set_memory_limit(0) == 12345);
  fprintf(stderr, "limit=%llu\n", env);
  return 0;
}

/* The child with gctrace: collections under a limit the live data
 * nearly fills. */
static int child_trace(void) {
  static void *keep[40];
  for (int i = 0; i < 40; i++)
    keep[i] = sgc_alloc_noscan(1 << 20);
  for (int i = 0; i < 200000; i++)
    CHECK(sgc_alloc(512) != NULL);
  return keep[0] == NULL;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "report") == 0)
    return child_report();
  if (argc > 1 && strcmp(argv[1], "trace") == 0)
    return child_trace();
  static char out[1 << 16];
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    setenv("SPANGC_MEMLIMIT", good[i].env, 1);
    int status = run_self(argv[0], "report", out, sizeof out);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "SPANGC_MEMLIMIT=%s: status %d: %s", good[i].env, status, out);
    char want[64];
    snprintf(want, sizeof want, "limit=%llu\n", good[i].bytes);
    CHECKF(strstr(out, want) != NULL, "SPANGC_MEMLIMIT=%s: %s (want %s)",
           good[i].env, out, want);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    setenv("SPANGC_MEMLIMIT", bad[i], 1);
    int status = run_self(argv[0], "report", out, sizeof out);
    CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
           "SPANGC_MEMLIMIT=%s accepted (status %d): %s", bad[i], status,
           out);
    char want[64];
    snprintf(want, sizeof want, "SPANGC_MEMLIMIT=%s: expected", bad[i]);
    CHECKF(strstr(out, want) != NULL && strstr(out, "MiB") != NULL,
           "SPANGC_MEMLIMIT=%s: message: %s", bad[i], out);
  }
  setenv("SPANGC_MEMLIMIT", "48MiB", 1);
  setenv("SPANGC_DEBUG", "gctrace=1", 1);
  int status = run_self(argv[0], "trace", out, sizeof out);
  CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "trace: %d: %s",
         status, out);
  CHECKF(strstr(out, "memory limit 48.0 MB") != NULL, "no limit at start: %s",
         out);
  CHECKF(strstr(out, "goal lowered by the limit") != NULL,
         "no lowered goal in the trace: %.2000s", out);
  return 0;
}
