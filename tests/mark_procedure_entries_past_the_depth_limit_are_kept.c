// labels: gc
// env: SPANGC_MARK_STACK_MAX=4096
// timeout: 120
/* A mark procedure whose entries include one of its own kind, nested
 * twelve deep, each level pushing more range entries than the one work
 * buffer a 4 KiB mark stack holds (SPANGC_MARK_STACK_MAX=4096): entries
 * that find no buffer are scanned at once, nested, up to eight deep.
 * Past that they were dropped and overflow set; the overflow passes
 * called the procedure again, which dropped them again, for ever, the
 * world stopped (session 22's adversarial review).  Now they are held
 * and scanned by the outermost call.  Checks: the collections end, and
 * the objects the procedure marks at every depth, the deepest included,
 * survive them. */
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "gctest.h"

#define DEPTH 12
#define NFILL 300 /* range entries per call: more than a buffer's 255 */

static uintptr_t zeros[64];
static int proc_index;
static long ncalls;

/* env: the depth left.  Marks addr[env]; pushes an entry of its own kind
 * for the level below. */
static sgc_mark_entry *proc(uintptr_t *addr, sgc_mark_entry *top,
                            sgc_mark_entry *limit, uintptr_t env) {
  __atomic_add_fetch(&ncalls, 1, __ATOMIC_RELAXED);
  for (int i = 0; i < NFILL; i++) {
    if (top + 1 >= limit)
      top = sgc_mark_stack_overflow(top + 1) - 1;
    ++top;
    top->start = zeros;
    top->descr = sizeof zeros;
  }
  if (env > 0) {
    if (top + 1 >= limit)
      top = sgc_mark_stack_overflow(top + 1) - 1;
    ++top;
    top->start = addr;
    top->descr = SGC_MAKE_PROC(proc_index, env - 1);
  }
  return sgc_mark_and_push((void *)addr[env], top, limit, (void **)addr);
}

static uintptr_t *volatile root;

int main(void) {
  sgc_init();
  proc_index = sgc_new_mark_proc(proc);
  CHECK(proc_index >= 0);
  int kind = sgc_new_kind(SGC_MAKE_PROC(proc_index, DEPTH), 0);
  CHECK(kind >= 0);
  uintptr_t *o = sgc_alloc_kind((DEPTH + 1) * sizeof(uintptr_t), kind);
  CHECK(o != NULL);
  for (int d = 0; d <= DEPTH; d++)
    o[d] = (uintptr_t)tagged_new((uint64_t)d);
  root = o;
  for (int i = 0; i < 3; i++)
    sgc_collect();
  for (int d = 0; d <= DEPTH; d++)
    CHECKF(tagged_intact((void *)root[d], (uint64_t)d),
           "the object the procedure marks %d deep was lost", DEPTH - d);
  printf("ok: %d levels kept, %ld procedure calls in 3 collections\n",
         DEPTH + 1, ncalls);
  return 0;
}
