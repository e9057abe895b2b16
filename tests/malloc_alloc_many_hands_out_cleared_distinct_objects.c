// labels: heap gc
/* sgc_alloc_many: every call fills the whole array (across span refills,
 * freed lists and large sizes) with distinct, aligned, cleared objects of
 * the asked kind and size; objects held only in the array survive the
 * collections that refills trigger; the counters agree with one-by-one
 * allocation, also when refills answer with central batches of freed
 * objects (a run once took slots from spans past such a batch, whose
 * objects were then dropped and counted freed twice: 5117 objects counted
 * for 8192 live); an unknown kind aborts naming the call. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

static int cmp(const void *a, const void *b) {
  uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
  return x < y ? -1 : x > y;
}

/* Distinct, non-overlapping, the right size and kind, and cleared (a
 * scanned object wholly; a pointer-free one in its first two words, as
 * sgc_alloc_noscan promises). */
static void check_run(void **out, size_t k, size_t n, int kind) {
  uintptr_t *sorted = malloc(k * sizeof *sorted);
  CHECK(sorted != NULL);
  for (size_t i = 0; i < k; i++) {
    void *p = out[i];
    CHECKF(p != NULL && ((uintptr_t)p & 15) == 0, "object %zu: %p", i, p);
    CHECKF(sgc_base(p) == p && sgc_size(p) >= n, "object %zu of %zu bytes: "
           "base %p size %zu", i, n, sgc_base(p), sgc_size(p));
    CHECKF(sgc_kind_of(p) == kind, "object %zu: kind %d, not %d", i,
           sgc_kind_of(p), kind);
    const uint64_t *w = p;
    size_t words = kind == SGC_KIND_NOSCAN ? (n >= 16 ? 2 : 1)
                                           : sgc_size(p) / 8;
    for (size_t j = 0; j < words; j++)
      CHECKF(w[j] == 0, "object %zu (%zu bytes): word %zu is %#llx", i, n,
             j, (unsigned long long)w[j]);
    sorted[i] = (uintptr_t)p;
  }
  qsort(sorted, k, sizeof *sorted, cmp);
  for (size_t i = 1; i < k; i++)
    CHECKF(sorted[i] - sorted[i - 1] >= n, "objects %#lx and %#lx overlap "
           "(%zu bytes)", (unsigned long)sorted[i - 1],
           (unsigned long)sorted[i], n);
  free(sorted);
}

enum { MAXN = 700 };

int main(int argc, char **argv) {
  if (argc > 1) { /* the child of the bad-kind case */
    sgc_init();
    void *out[4];
    sgc_alloc_many(32, 13, out, 4);
    return 0;
  }
  sgc_init();
  {
    /* Freed objects go back in central batches; a run takes them. */
    int cls = size_to_class(32);
    enum { NF = 5000, NR = 8192 };
    void **held = calloc(NR, sizeof *held);
    CHECK(held != NULL);
    CHECK(sgc_add_roots(held, held + NR) == 0);
    sgc_collect();
    sgc_stats s0, s1;
    sgc_read_stats(&s0);
    for (int i = 0; i < NF; i++)
      held[i] = sgc_alloc(32);
    for (int i = 0; i < NF; i++) {
      sgc_free(held[i]);
      held[i] = NULL;
    }
    CHECK(sgc_alloc_many(32, SGC_KIND_SCAN, held, NR) == NR);
    sgc_collect();
    sgc_read_stats(&s1);
    int64_t live = (int64_t)(s1.by_class[cls].objects -
                             s0.by_class[cls].objects);
    CHECKF(live >= NR - 64 && live <= NR, "%lld objects of 32 bytes "
           "counted live for the %d a run holds", (long long)live, NR);
    sgc_remove_roots(held, held + NR);
    free(held);
  }
  size_t sizes[] = {8, 16, 24, 48, 100, 512, 4000, 30000, 70000};
  /* Dirty the memory the runs will reuse: freed objects come back
   * cleared too. */
  for (int i = 0; i < 20000; i++) {
    uint64_t *p = sgc_alloc(16 + (size_t)(i % 200));
    memset(p, 0xa5, sgc_size(p));
    if (i % 3 == 0)
      sgc_free(p);
  }
  sgc_collect();
  static void *keep[64][MAXN]; /* a root: each run is kept */
  int held = 0;
  for (int round = 0; round < 3; round++)
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
      for (int kind = 0; kind < 2; kind++) {
        size_t n = sizes[si];
        size_t want = n > 10000 ? 5 : MAXN;
        void *out[MAXN];
        size_t k = sgc_alloc_many(n, kind, out, want);
        CHECKF(k == want, "%zu of %zu objects of %zu bytes", k, want, n);
        check_run(out, k, n, kind);
        for (size_t i = 0; i < k; i++) {
          memset(out[i], 0x5a, n);
          if (kind == SGC_KIND_SCAN && n >= 16) /* a chain to check later */
            ((void **)out[i])[1] = i + 1 < k ? out[i + 1] : NULL;
        }
        if (held < 64 && kind == SGC_KIND_SCAN && n >= 16) {
          memcpy(keep[held++], out, k * sizeof(void *));
          continue;
        }
        /* free some back: the next run takes them from the freed list */
        for (size_t i = 0; i < k; i += 4)
          sgc_free(out[i]);
      }
  /* Runs that triggered collections while they filled: the chains held
   * only by keep[] (and, mid-run, by the array on the stack) are intact. */
  for (int r = 0; r < 200; r++) {
    void *out[MAXN];
    size_t k = sgc_alloc_many(64, SGC_KIND_SCAN, out, MAXN);
    CHECK(k == MAXN);
    for (size_t i = 0; i < k; i++)
      ((uint64_t *)out[i])[0] = 0xfeedull + i;
  }
  sgc_collect();
  for (int h = 0; h < held; h++) {
    void **o = keep[h][0];
    size_t len = 0;
    for (void **p = o; p != NULL; p = p[1], len++)
      CHECKF(sgc_base(p) == p, "chain %d: link %zu is not an object", h, len);
  }
  sgc_heap_verify();

  /* The counters count every object of a run. */
  sgc_stats a, b;
  sgc_read_stats(&a);
  void *out[MAXN];
  CHECK(sgc_alloc_many(32, SGC_KIND_SCAN, out, MAXN) == MAXN);
  sgc_read_stats(&b);
  CHECKF(b.total_allocs - a.total_allocs >= MAXN,
         "%llu allocations counted for a run of %d",
         (unsigned long long)(b.total_allocs - a.total_allocs), MAXN);
  CHECK(sgc_alloc_many(32, SGC_KIND_SCAN, out, 0) == 0);

  /* An unknown kind aborts naming the call. */
  int pfd[2];
  CHECK(pipe(pfd) == 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    dup2(pfd[1], 2);
    execl("/proc/self/exe", argv[0], "bad-kind", (char *)NULL);
    _exit(127);
  }
  close(pfd[1]);
  char msg[512] = "";
  ssize_t got = read(pfd[0], msg, sizeof msg - 1);
  msg[got > 0 ? got : 0] = 0;
  int st;
  CHECK(waitpid(pid, &st, 0) == pid);
  CHECKF(!(WIFEXITED(st) && WEXITSTATUS(st) == 0) &&
             strstr(msg, "sgc_alloc_many(32, 13)") != NULL,
         "status %#x, message \"%s\"", st, msg);
  printf("runs of 9 sizes in 2 kinds: full, distinct, cleared, kept\n");
  return 0;
}
