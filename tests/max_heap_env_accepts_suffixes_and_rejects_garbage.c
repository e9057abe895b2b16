// labels: api
/* SPANGC_MAX_HEAP reads its bytes as SPANGC_MEMLIMIT does: plain bytes,
 * K/M/G, KiB/MiB/GiB, 0 for none; anything else stops the program at
 * start with a message naming the variable and the accepted forms.
 * (It was read with strtoull: "64M" became a limit of 64 bytes, every
 * allocation refused, and the program crashed on the NULL -- seen by the
 * adversarial review of session 25.)  Its siblings, checked here too:
 * SPANGC_GOGC is a whole number or "off" (atoi read a typo as 0, a
 * collection at every allocation), and SPANGC_MARK_STACK_MAX takes the
 * same byte forms (read at the first mark). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

static const struct {
  const char *env;
  unsigned long long bytes;
} good[] = {
    {"67108864", 67108864ull}, {"0", 0},           {"64M", 64ull << 20},
    {"64MiB", 64ull << 20},    {"2G", 2ull << 30}, {"512k", 512ull << 10},
};
static const char *bad[] = {"64MB", "12X", "-5", "1.5G", "0x10", "M"};

static int child_report(void) {
  sgc_init();
  unsigned long long max = gc_max_heap();
  if (max == 0 || max >= (1ull << 20)) { /* a small one would refuse it */
    void *p = sgc_alloc(100);
    CHECK(p != NULL);
  }
  fprintf(stderr, "max=%llu\n", max);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "report") == 0)
    return child_report();
  if (argc > 1 && strcmp(argv[1], "collect") == 0) {
    sgc_init();
    sgc_collect(); /* the mark reads SPANGC_MARK_STACK_MAX */
    return 0;
  }
  static char out[1 << 14];
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    setenv("SPANGC_MAX_HEAP", good[i].env, 1);
    int status = run_self(argv[0], "report", out, sizeof out);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "SPANGC_MAX_HEAP=%s: status %d: %s", good[i].env, status, out);
    char want[64];
    snprintf(want, sizeof want, "max=%llu\n", good[i].bytes);
    CHECKF(strstr(out, want) != NULL, "SPANGC_MAX_HEAP=%s: %s (want %s)",
           good[i].env, out, want);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    setenv("SPANGC_MAX_HEAP", bad[i], 1);
    int status = run_self(argv[0], "report", out, sizeof out);
    CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
           "SPANGC_MAX_HEAP=%s accepted (status %d): %s", bad[i], status, out);
    char want[64];
    snprintf(want, sizeof want, "SPANGC_MAX_HEAP=%s: expected", bad[i]);
    CHECKF(strstr(out, want) != NULL && strstr(out, "MiB") != NULL,
           "SPANGC_MAX_HEAP=%s: message: %s", bad[i], out);
  }
  static const char *gogc_bad[] = {"abc", "10x", "-5", "1.5", ""};
  for (size_t i = 0; i < sizeof gogc_bad / sizeof gogc_bad[0]; i++) {
    if (!*gogc_bad[i])
      continue; /* empty: the default, as for every variable */
    setenv("SPANGC_GOGC", gogc_bad[i], 1);
    unsetenv("SPANGC_MAX_HEAP");
    int status = run_self(argv[0], "report", out, sizeof out);
    char want[64];
    snprintf(want, sizeof want, "SPANGC_GOGC=%s: expected", gogc_bad[i]);
    CHECKF(WIFSIGNALED(status) && strstr(out, want) != NULL,
           "SPANGC_GOGC=%s accepted (status %d): %s", gogc_bad[i], status,
           out);
  }
  setenv("SPANGC_GOGC", "off", 1);
  CHECK(WIFEXITED(run_self(argv[0], "report", out, sizeof out)));
  setenv("SPANGC_GOGC", "150", 1);
  CHECK(WIFEXITED(run_self(argv[0], "report", out, sizeof out)));
  unsetenv("SPANGC_GOGC");
  setenv("SPANGC_MARK_STACK_MAX", "64Q", 1);
  int status = run_self(argv[0], "collect", out, sizeof out);
  CHECKF(WIFSIGNALED(status) &&
             strstr(out, "SPANGC_MARK_STACK_MAX=64Q: expected") != NULL,
         "SPANGC_MARK_STACK_MAX=64Q accepted (status %d): %s", status, out);
  setenv("SPANGC_MARK_STACK_MAX", "1MiB", 1);
  status = run_self(argv[0], "collect", out, sizeof out);
  CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "SPANGC_MARK_STACK_MAX=1MiB: status %d: %s", status, out);
  return 0;
}
