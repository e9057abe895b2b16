// labels: gc world
// env: SPANGC_MARKERS=2
/* The collector's threads (a helper marker, the background sweeper, the
 * concurrent collector when that mode is on) are made by the scavenger
 * as spangc starts, not by the thread whose allocation triggers the first
 * collection: after sgc_init, and before any collection, they exist, and
 * the first collection (run by an allocating thread) makes no thread.
 * A fork child does not make them ahead (one that execs at once would
 * make them for nothing): it has the scavenger only until its own first
 * collection, which then works as usual. */
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

static uint64_t num_gc(void) {
  sgc_stats st;
  sgc_read_stats(&st);
  return st.num_gc;
}

/* Garbage until a collection has run on this thread's allocations. */
static void allocate_until_a_collection(void) {
  uint64_t before = num_gc();
  volatile void *sink = NULL;
  for (long i = 0; i < 100000000L && num_gc() == before; i++) {
    sink = sgc_alloc(64);
    CHECK(sink != NULL);
  }
  CHECKF(num_gc() > before, "no collection after 100M allocations");
  (void)sink;
}

int main(void) {
  sgc_init();
  /* main, the scavenger, the sweeper (and a helper marker with
   * SPANGC_MARKERS=2, and the concurrent collector) */
  int ahead = settled_thread_count();
  CHECK(num_gc() == 0);
  CHECKF(ahead >= 3, "%d threads after sgc_init; the collector's threads "
                     "were not made ahead",
         ahead);
  allocate_until_a_collection();
  int after = settled_thread_count();
  CHECKF(after == ahead, "%d threads before the first collection, %d after",
         ahead, after);

  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    int child = settled_thread_count();
    if (child > 2) { /* this thread and the scavenger */
      fprintf(stderr, "fork child: %d threads before its first collection\n",
              child);
      _exit(1);
    }
    allocate_until_a_collection();
    sgc_collect();
    _exit(settled_thread_count() > child ? 0 : 2);
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "fork child: status %#x", status);
  return 0;
}
