// labels: gc threads
// env: TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:detect_deadlocks=0:die_after_fork=0
/* Generational collection and fork(): the child does not inherit the
 * kernel's write-protection registration (and /proc/self/pagemap opened
 * by the parent describes the parent), so it must track written pages
 * again.  In the child: its first automatic collection finds the record
 * lost (sgc_stats.dirty_lost grows) and is major; minor collections follow;
 * an old structure (made old in the parent) written in the child with
 * the only pointers to young objects keeps them intact across the
 * child's minors.  The parent's tracking goes on: after the child exits,
 * the parent runs minors (without a lost record) and its own young objects
 * stored into the same old structure survive.  With generations off the
 * same survival checks hold across ordinary collections.
 * Catches: a child that goes on listing with the parent's descriptors
 * (writes made in the child are then never seen). */
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define NH 64
#define NS 16
#define ROUNDS 4

typedef struct holder {
  void *slot[NS];
} holder;

holder *volatile g_hold[NH];
static uint64_t tags[NH][NS]; /* not pointers */

__attribute__((noinline)) static void store(int r, uint64_t who) {
  for (int h = 0; h < NH; h++) {
    uint64_t tag = who | ((uint64_t)r << 32) | ((uint64_t)h << 8);
    tags[h][r % NS] = tag;
    g_hold[h]->slot[r % NS] = tagged_new(tag);
  }
}

/* Number of slots whose young object is lost or corrupted. */
__attribute__((noinline)) static int lost(void) {
  int n = 0;
  for (int h = 0; h < NH; h++)
    for (int j = 0; j < NS; j++) {
      if (tags[h][j] == 0)
        continue;
      n += !tagged_intact(g_hold[h]->slot[j], tags[h][j]);
    }
  return n;
}

/* Child: 0 if all is well, else a code saying what failed. */
static int child(void) {
  sgc_stats a, b;
  sgc_read_stats(&a);
  uint64_t before = a.num_gc;
  run_minors(1); /* at least one collection: the first is major */
  sgc_read_stats(&b);
  if (a.generational) {
    if (b.dirty_lost <= a.dirty_lost)
      return 10; /* the record was not found lost */
    if (b.num_major_gc == a.num_major_gc)
      return 11; /* no major collection first */
    (void)before;
  }
  uint64_t minors = 0;
  for (int r = 0; r < ROUNDS; r++) {
    store(r, 0xc100000000000000ull);
    clear_stack();
    minors += run_minors(3);
    if (lost())
      return 13; /* young objects stored in the child were lost */
  }
  if (a.generational && minors < ROUNDS)
    return 14;
  return 0;
}

int main(void) {
  sgc_init();
  for (int h = 0; h < NH; h++) {
    g_hold[h] = sgc_alloc(sizeof(holder));
    CHECK(g_hold[h] != NULL);
  }
  clear_stack();
  sgc_collect(); /* the holders are old */
  run_minors(2);
  int gen = generational();
  for (int k = 0; k < 3; k++) {
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
      _exit(child());
    int status;
    sgc_enter_blocking();
    CHECK(waitpid(pid, &status, 0) == pid);
    sgc_exit_blocking();
    static const char *what[] = {
        [10] = "the child's record of written pages was not found lost",
        [11] = "the child's first collection was not major",
        [12] = "the child could not allocate",
        [13] = "the child lost young objects stored into old ones",
        [14] = "the child ran too few minor collections"};
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "child %d: status %d: %s", k, status,
           WIFEXITED(status) && WEXITSTATUS(status) >= 10 &&
                   WEXITSTATUS(status) <= 14
               ? what[WEXITSTATUS(status)]
               : "crashed");
  }
  /* The parent goes on tracking: its minors keep its own young objects
   * (the child's stores were in the child's memory only). */
  memset(tags, 0, sizeof tags);
  sgc_stats a, b;
  sgc_read_stats(&a);
  uint64_t minors = 0;
  for (int r = 0; r < ROUNDS; r++) {
    store(r, 0xfa00000000000000ull);
    clear_stack();
    minors += run_minors(3);
    CHECKF(lost() == 0, "the parent lost %d young objects after fork",
           lost());
  }
  sgc_read_stats(&b);
  printf("3 children tracked written pages again; parent: %llu minors, "
         "%llu records lost (generational %d)\n", (unsigned long long)minors,
         (unsigned long long)(b.dirty_lost - a.dirty_lost), gen);
  if (gen) {
    CHECKF(minors >= ROUNDS, "only %llu minor collections in the parent",
           (unsigned long long)minors);
    CHECKF(b.dirty_lost == a.dirty_lost, "the parent's record was lost "
           "after fork");
  }
  return 0;
}
