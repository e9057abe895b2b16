// labels: heap
// env: SPANGC_SCAVENGE_MS=60000
/* When allspans grows, the array it leaves is not unmapped by the thread
 * that let it go (an allocating thread, or the collector at its snapshot,
 * inside a stop): munmap makes the kernel flush the TLB of every CPU that
 * ran the process, by IPI, which held a push of the pause test 2.1 ms.
 * The array is retired, and the scavenger thread or sgc_release_memory
 * unmaps it (rule:retired-arrays-unmapped-later).
 *
 * Here: a collection pins the current array as the collector's snapshot;
 * one-page objects make allspans grow; the next collection lets the old
 * array go.  It must still be mapped after that collection (the scavenger
 * sleeps 30 s here), and unmapped, its bytes no longer counted as
 * metadata, after sgc_release_memory.  Run once more with the scavenger
 * off (SPANGC_SCAVENGE_MS=0): then nothing would ever unmap a retired
 * array, so the collection unmaps it at once. */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "nopreempt.h"

#define MAXOBJ 40000
static void *objs[MAXOBJ]; /* a root: keeps every span in use */

static bool mapped(const void *p) {
  errno = 0;
  return msync((void *)((uintptr_t)p & ~(uintptr_t)4095), 4096, MS_ASYNC) == 0;
}

static void read_allspans(mspan ***a, uint32_t *cap) {
  mcache *np = np_lock(&sgc_heap.lock);
  *a = sgc_heap.allspans;
  *cap = sgc_heap.nspancap;
  np_unlock(&sgc_heap.lock, np);
}

int main(int argc, char **argv) {
  const char *ms = getenv("SPANGC_SCAVENGE_MS");
  bool scavenger = !(ms && strcmp(ms, "0") == 0);
  if (scavenger) {
    /* The scavenger-less run first, in a child of its own. */
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
      setenv("SPANGC_SCAVENGE_MS", "0", 1);
      execv("/proc/self/exe", argv);
      _exit(127);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0,
           "the run without a scavenger thread failed (status %#x)", st);
  }
  (void)argc;
  sgc_init();
  sgc_stats s;
  sgc_read_stats(&s);
  CHECKF((s.scavenge_period_ns != 0) == scavenger,
         "scavenger period %llu with SPANGC_SCAVENGE_MS=%s",
         (unsigned long long)s.scavenge_period_ns, ms ? ms : "(unset)");

  objs[0] = sgc_alloc(64); /* the first span makes the first array */
  CHECK(objs[0] != NULL);
  sgc_collect(); /* pins the current array as the snapshot */
  mspan **old;
  uint32_t oldcap;
  read_allspans(&old, &oldcap);
  CHECK(old != NULL);
  int n = 1;
  for (;;) {
    mspan **a;
    uint32_t cap;
    read_allspans(&a, &cap);
    if (a != old)
      break;
    CHECKF(n < MAXOBJ, "allspans (capacity %u) did not grow after %d spans",
           oldcap, n);
    objs[n] = sgc_alloc_noscan(PAGE_SIZE); /* a one-page span each */
    CHECK(objs[n] != NULL);
    n++;
  }
  CHECKF(mapped(old), "the old array was unmapped while the collector's "
         "snapshot still held it");
  sgc_collect(); /* a new snapshot: nobody reads the old array now */
  if (!scavenger) {
    CHECKF(!mapped(old) && errno == ENOMEM, "without a scavenger thread the "
           "old array (%u entries) stays mapped after the next snapshot",
           oldcap);
    printf("no scavenger: the old array of %u entries was unmapped at the "
           "next snapshot (%d spans made)\n", oldcap, n);
    return 0;
  }
  CHECKF(mapped(old), "the old array (%u entries) was unmapped by the "
         "collection, inside its stop, not left to the scavenger", oldcap);
  uint64_t meta0 = ATOMIC_LOAD(&sgc_heap.sys_meta);
  sgc_release_memory();
  uint64_t meta1 = ATOMIC_LOAD(&sgc_heap.sys_meta);
  CHECKF(!mapped(old) && errno == ENOMEM,
         "sgc_release_memory left the retired array mapped");
  CHECKF(meta0 - meta1 >= oldcap * sizeof(mspan *),
         "metadata fell by %llu bytes, not by the retired array's %zu",
         (unsigned long long)(meta0 - meta1), oldcap * sizeof(mspan *));
  for (int i = 1; i < n; i++)
    CHECK(sgc_size(objs[i]) >= PAGE_SIZE);
  printf("the old array of %u entries stayed mapped through the snapshot "
         "that let it go and was unmapped by sgc_release_memory (%d spans "
         "made)\n", oldcap, n);
  return 0;
}
