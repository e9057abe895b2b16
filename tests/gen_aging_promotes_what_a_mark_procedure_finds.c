// labels: gc threads
/* Aging (aging.c), rule:old-points-to-old, through mark procedures.
 * Holders of a procedure kind survive one minor, young; then each gets a
 * new young child (64 bytes, a tag in every word), and is written (so
 * its page is listed at the next minor, which promotes the holders).
 * The procedure reaches the child in one of four ways:
 *   0: sgc_set_mark_bit(child), the child being pointer-free;
 *   1: sgc_mark_and_push(child);
 *   2: an entry for a malloc'ed block (outside the heap) holding the
 *      child's address;
 *   3: sgc_push_range over such a block.
 * A minor that promotes the holders must promote the children: the
 * holders' pages are then protected (probing off) and not written again,
 * so the next minors never call the procedure for them, and a child kept
 * young would be freed and its slot reused by garbage of its size.  Each
 * way: every child intact after six more minors, with and without
 * SPANGC_DEBUG=verify=1.  The adversarial review of aging lost all 2048
 * children with way 0 (sgc_set_mark_bit made the child marked, young),
 * and through the bdwgc layer's GC_set_mark_bit 4059 of 163840.
 * Skipped without generations or aging. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define N 2048
#define TAG(i, w) (((uint64_t)(i) << 8) ^ (uint64_t)(w) ^ 0x5a5a000000000000ull)

typedef struct holder {
  uint64_t *child;   /* ways 0 and 1 */
  uint64_t **block;  /* ways 2 and 3: malloc'ed, holds the child */
  uint64_t gen;      /* written to list the holder's page */
  uint64_t pad[5];
} holder;

static int way;
holder *volatile hold[N]; /* roots: the holders */

static sgc_mark_entry *proc(uintptr_t *addr, sgc_mark_entry *top,
                            sgc_mark_entry *limit, uintptr_t env) {
  (void)env;
  holder *h = (holder *)addr;
  switch (way) {
  case 0:
    if (h->child != NULL)
      sgc_set_mark_bit(h->child);
    break;
  case 1:
    if (h->child != NULL)
      top = sgc_mark_and_push(h->child, top, limit, (void **)&h->child);
    break;
  case 2:
    if (h->block != NULL && top + 1 < limit) {
      top++;
      top->start = h->block;
      top->descr = sizeof(uint64_t *) | SGC_DS_LENGTH;
    }
    break;
  case 3:
    if (h->block != NULL)
      sgc_push_range(h->block, h->block + 1);
    break;
  }
  return top;
}

static uint64_t *new_child(int i) {
  uint64_t *c = way == 0 ? sgc_alloc_noscan(64) : sgc_alloc(64);
  CHECK(c != NULL);
  for (int w = 0; w < 8; w++)
    c[w] = TAG(i, w);
  return c;
}

static int child_intact(const uint64_t *c, int i) {
  if (c == NULL || sgc_base(c) != c)
    return 0;
  for (int w = 0; w < 8; w++)
    if (c[w] != TAG(i, w))
      return 0;
  return 1;
}

int main(int argc, char **argv) {
  sgc_stats st;
  if (!aging_init_or_skip(&st))
    return 0;
  (void)argc, (void)argv;
  sgc_test_probe_off = true; /* full pages protected at once */
  int idx = sgc_new_mark_proc(proc);
  CHECK(idx >= 0);
  int kind = sgc_new_kind(SGC_MAKE_PROC(idx, 0), 0);
  CHECK(kind >= 0);
  int failed = 0;
  for (way = 0; way < 4; way++) {
    run_minors(2);
    for (int i = 0; i < N; i++) {
      holder *h = sgc_alloc_kind(sizeof *h, kind);
      CHECK(h != NULL);
      if (way >= 2) {
        h->block = malloc(sizeof *h->block);
        CHECK(h->block != NULL);
        *h->block = NULL;
      }
      hold[i] = h;
    }
    clear_stack();
    CHECK(run_minors(1) == 1); /* the holders survive it, young */
    for (int i = 0; i < N; i++) {
      holder *h = hold[i];
      uint64_t *c = new_child(i);
      if (way >= 2)
        *h->block = c;
      else
        h->child = c;
      h->gen++;
    }
    clear_stack();
    CHECK(run_minors(1) == 1); /* promotes the holders */
    run_minors_sized(6, 64);
    int lost = 0;
    for (int i = 0; i < N; i++) {
      holder *h = hold[i];
      lost += !child_intact(way >= 2 ? *h->block : h->child, i);
    }
    printf("way %d: %d of %d children lost\n", way, lost, N);
    if (lost != 0)
      failed++;
    for (int i = 0; i < N; i++) {
      if (way >= 2)
        free(hold[i]->block);
      hold[i] = NULL;
    }
  }
  CHECKF(failed == 0, "%d of 4 ways lost children of promoted holders",
         failed);
  return 0;
}
