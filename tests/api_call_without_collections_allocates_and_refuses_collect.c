// labels: api
// timeout: 120
/* sgc_call_without_collections (and the bdwgc layer's
 * GC_call_with_alloc_lock, which runs its fn inside it): fn may allocate,
 * and a collection that falls due meanwhile waits until fn returns; fn
 * calling sgc_collect aborts naming the call.  Before, both hung: the
 * thread's allocation started a collection, which waited for the read
 * hold the thread itself had (found by session 22's adversarial review
 * with GC_MALLOC and GC_gcollect inside GC_call_with_alloc_lock).
 * Checks: 64 MiB allocated inside fn (sixteen times the first goal) with
 * no collection during fn and every object intact after; collections
 * resume once fn returns; the abort case in a child. */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "spangc.h"

#define NOBJ 1024
#define OBJ ((size_t)64 << 10)

static unsigned char **volatile objs;

static uint64_t num_gc(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return st.num_gc;
}

static void *allocate_a_lot(void *arg) {
  uint64_t before = num_gc();
  for (size_t i = 0; i < NOBJ; i++) {
    objs[i] = sgc_alloc(OBJ);
    CHECK(objs[i] != NULL);
    memset(objs[i], (int)(i & 0xff), OBJ);
    void *volatile garbage = sgc_alloc(OBJ); /* as much again */
    (void)garbage;
  }
  *(uint64_t *)arg = num_gc() - before;
  return arg;
}

static void *collect_inside(void *arg) {
  sgc_collect();
  return arg;
}

int main(int argc, char **argv) {
  sgc_init();
  if (argc > 1 && strcmp(argv[1], "collect") == 0) {
    sgc_call_without_collections(collect_inside, NULL);
    return 3; /* did not abort */
  }
  objs = sgc_alloc(NOBJ * sizeof *objs);
  CHECK(objs != NULL);
  uint64_t during = 99;
  CHECK(sgc_call_without_collections(allocate_a_lot, &during) == &during);
  CHECKF(during == 0, "%llu collections ran inside fn",
         (unsigned long long)during);
  for (size_t i = 0; i < NOBJ; i++)
    for (size_t k = 0; k < OBJ; k += 4096)
      CHECKF(objs[i][k] == (unsigned char)(i & 0xff),
             "object %zu changed at %zu", i, k);
  uint64_t after = num_gc();
  for (int i = 0; i < 4096 && num_gc() == after; i++) {
    void *volatile garbage = sgc_alloc(OBJ);
    (void)garbage;
  }
  CHECK(num_gc() > after); /* the one put off runs once fn returned */

  char out[4096];
  int status = run_self(argv[0], "collect", out, sizeof out);
  CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
         "sgc_collect inside fn: status %#x, output:\n%s", status, out);
  CHECKF(strstr(out, "sgc_collect") &&
             strstr(out, "inside sgc_call_without_collections"),
         "the abort does not name the call:\n%s", out);
  printf("64 MiB allocated inside fn with no collection; sgc_collect "
         "there aborts naming the call\n");
  return 0;
}
