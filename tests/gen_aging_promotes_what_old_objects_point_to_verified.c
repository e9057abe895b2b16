// labels: gc
// env: SPANGC_DEBUG=verify=1
/* Aging (aging.c), rule:old-points-to-old.  Holders (64-byte scanned
 * objects filling whole pages) survive one minor collection, young; then
 * each gets a pointer to a new young object (tagged_new), and the next
 * minor promotes the holders, which it reaches for the second time.  The
 * new objects it reaches through them must be promoted too: the holders'
 * pages were written since the listing before, so they are listed, and
 * full of objects old after that minor, they are protected (probing off)
 * and, unwritten, not listed by the minor after, which would not reach
 * objects kept young through them.  The young objects stay intact across
 * four more minors (with garbage of their size reusing any slot freed
 * wrongly), sgc_stats.aging_promoted counts them, and the verifier's
 * check (mark_verify_aging) passes.  A child with that promotion turned
 * off (sgc_test_promote_off) must be stopped by that check, its message
 * naming an object kept young, or, without the verifier, find its young
 * objects lost.  Skipped without generations or aging. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define NHOLD 2048 /* 128 KiB of holders: 32 kernel pages */

typedef struct holder {
  uint64_t *young;
  uint64_t pad[7];
} holder;

holder *volatile hold[NHOLD]; /* roots: the holders */

/* The scenario; 0 if every young object is intact at the end. */
__attribute__((noinline)) static int scenario(void) {
  run_minors(2);
  for (int i = 0; i < NHOLD; i++) {
    holder *h = sgc_alloc(sizeof *h);
    CHECK(h != NULL);
    hold[i] = h;
  }
  clear_stack();
  CHECK(run_minors(1) == 1); /* the holders survive it, young */
  for (int i = 0; i < NHOLD; i++)
    hold[i]->young = tagged_new((uint64_t)i * 977 + 5);
  clear_stack();
  CHECK(run_minors(1) == 1); /* the holders promoted, and what they hold */
  run_minors(4);
  int lost = 0;
  for (int i = 0; i < NHOLD; i++)
    lost += !tagged_intact(hold[i]->young, (uint64_t)i * 977 + 5);
  return lost;
}

int main(void) {
  sgc_stats st;
  if (!aging_init_or_skip(&st))
    return 0;
  /* A page old objects fill is protected by the minor that finds it so,
   * not probed first (genprotect.c). */
  sgc_test_probe_off = true;
  const char *dbg = getenv("SPANGC_DEBUG");
  int verifying = dbg != NULL && strstr(dbg, "verify=1") != NULL;

  int fds[2];
  CHECK(pipe(fds) == 0);
  fflush(NULL);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 2);
    sgc_test_promote_off = true;
    _exit(scenario() == 0 ? 0 : 3);
  }
  close(fds[1]);
  uint64_t promoted0 = st.aging_promoted;
  int lost = scenario();
  sgc_read_stats(&st);
  printf("parent: %d of %d young objects lost, %llu promoted by old "
         "objects\n", lost, NHOLD,
         (unsigned long long)(st.aging_promoted - promoted0));
  CHECKF(lost == 0, "%d young objects reachable only through old holders "
         "were lost", lost);
  CHECK(st.aging_promoted - promoted0 >= NHOLD);

  char buf[4096] = {0};
  size_t got = 0;
  ssize_t r;
  sgc_enter_blocking();
  while (got < sizeof buf - 1 &&
         (r = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0)
    got += (size_t)r;
  sgc_exit_blocking();
  int status;
  CHECK(wait_child_within(pid, 120, &status));
  printf("child without that promotion: %s %d; said: %.200s\n",
         WIFSIGNALED(status) ? "signal" : "exit",
         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), buf);
  if (verifying)
    CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT &&
               strstr(buf, "keeps young") != NULL,
           "the verifier did not stop a minor that promoted nothing old "
           "objects point to");
  else
    CHECKF(!(WIFEXITED(status) && WEXITSTATUS(status) == 0),
           "a minor that promoted nothing old objects point to lost no "
           "young object");
  return 0;
}
