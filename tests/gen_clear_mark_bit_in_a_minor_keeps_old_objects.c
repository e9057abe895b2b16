// labels: gc
/* sgc_clear_mark_bit is documented for root callbacks.  With generations
 * a mark also means "old": here old targets are reachable only from old
 * holders on pages nobody writes again, and a root callback clears the
 * targets' marks (through pointers it keeps hidden) at every collection,
 * minor ones included; later the program clears them between
 * collections too.  Each target must stay intact (not freed, its slot not
 * reused by the garbage run_minors allocates in the same size class)
 * through many collections after each.
 * Catches: a minor collection whose mark clear turns an old object young
 * again; its holder is not rescanned (clean page), so it is freed while
 * reachable. */
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define NT 64
#define MASK 0x5a5a5a5a5a5a5a5aull

typedef struct holder {
  uint64_t *t[NT];
} holder;

holder *volatile g_hold;
static uintptr_t hidden[NT]; /* target ^ MASK: not a pointer */
static volatile int clearing;
static volatile long calls;

static uint64_t tag_of(int i) { return 0xc1ea500000000000ull | (uint64_t)i; }

static void clear_targets(void) {
  for (int i = 0; i < NT; i++)
    if (hidden[i])
      sgc_clear_mark_bit((void *)(hidden[i] ^ MASK));
}

static void callback(void) {
  if (clearing) {
    calls++;
    clear_targets();
  }
}

__attribute__((noinline)) static int lost(void) {
  int n = 0;
  for (int i = 0; i < NT; i++) {
    const uint64_t *y = g_hold->t[i];
    int ok = y != NULL && sgc_base(y) == y && (uintptr_t)y == (hidden[i] ^ MASK);
    for (int k = 0; ok && k < 8; k++)
      ok = y[k] == (tag_of(i) ^ (uint64_t)k);
    n += !ok;
  }
  return n;
}

__attribute__((noinline)) static void build(void) {
  g_hold = sgc_alloc(sizeof(holder));
  CHECK(g_hold != NULL);
  for (int i = 0; i < NT; i++) {
    uint64_t *y = sgc_alloc(64); /* run_minors' garbage size */
    CHECK(y != NULL);
    for (int k = 0; k < 8; k++)
      y[k] = tag_of(i) ^ (uint64_t)k;
    g_hold->t[i] = y;
    hidden[i] = (uintptr_t)y ^ MASK;
  }
}

int main(void) {
  sgc_init();
  build();
  clear_stack();
  sgc_collect(); /* holder and targets are old */
  run_minors(3);
  CHECK(lost() == 0);
  int gen = generational();

  /* 1: cleared by a root callback, during (minor) collections. */
  sgc_set_root_callback(callback);
  clearing = 1;
  uint64_t m1 = 0;
  for (int r = 0; r < (int)scaled(4); r++) {
    m1 += run_minors(4);
    CHECKF(lost() == 0, "callback phase, round %d: %d old objects lost "
           "(%ld callbacks)", r, lost(), calls);
  }
  clearing = 0;
  m1 += run_minors(4);
  CHECKF(lost() == 0, "after the callback phase: %d old objects lost",
         lost());
  CHECK(calls > 0);

  /* 2: cleared by the program between collections. */
  uint64_t m2 = 0;
  for (int r = 0; r < (int)scaled(4); r++) {
    clear_targets();
    m2 += run_minors(4);
    CHECKF(lost() == 0, "between collections, round %d: %d old objects "
           "lost", r, lost());
  }
  sgc_set_root_callback(NULL);
  printf("%d old objects kept: %ld callbacks cleared their marks during "
         "%llu minors; then cleared between collections, %llu minors "
         "(generational %d)\n", NT, calls, (unsigned long long)m1,
         (unsigned long long)m2, gen);
  if (gen)
    CHECKF(m1 >= 4, "only %llu minor collections while the callback "
           "cleared marks", (unsigned long long)m1);
  return 0;
}
