// labels: gc
/* sgc_set_reclaim_hook: every unreachable object is offered to the hook
 * once, by major and by minor (generational) collections alike; one it
 * keeps is never reclaimed nor reused (its contents stay intact while the
 * program allocates on) and is not offered again; reachable objects are
 * never offered; sgc_free releases a kept object; without the hook the
 * same garbage is simply reclaimed. */
#include <string.h>

#include "check.h"
#include "spangc-int.h"

#define N 2000
#define MAGIC 0x5eed1eafUL

typedef struct obj {
  uintptr_t magic, batch, index, pad[5];
} obj;

static int offered[2][N];        /* atomic: times each object was offered */
static obj *kept[2][N];          /* atomic: where each kept object is */
static int hook_keeps = 1;
static int reachable_offered;    /* atomic */

static int hook(void *p, size_t size, int kind) {
  obj *o = p;
  if (size < sizeof *o || o->magic != MAGIC || o->batch > 2 || o->index >= N)
    return 0;
  if (o->batch == 2) { /* a reachable one: must never be offered */
    __atomic_add_fetch(&reachable_offered, 1, __ATOMIC_RELAXED);
    return 0;
  }
  __atomic_add_fetch(&offered[o->batch][o->index], 1, __ATOMIC_RELAXED);
  __atomic_store_n(&kept[o->batch][o->index], o, __ATOMIC_RELAXED);
  return hook_keeps;
}

static __attribute__((noinline)) void drop_batch(int b) {
  for (uintptr_t i = 0; i < N; i++) {
    obj *o = sgc_alloc(sizeof *o);
    CHECK(o != NULL);
    o->magic = MAGIC;
    o->batch = (uintptr_t)b;
    o->index = i;
  }
}

static __attribute__((noinline)) void clear_stack(void) {
  char buf[32768];
  memset(buf, 0, sizeof buf);
  __asm__ volatile("" ::"r"(buf) : "memory");
}

static void churn(long bytes) {
  for (long done = 0; done < bytes; done += (long)sizeof(obj)) {
    char *p = sgc_alloc(sizeof(obj));
    CHECK(p != NULL);
    memset(p, 0xab, 64);
  }
}

/* Counts offers of batch b; checks none was offered twice and that the
 * kept ones still hold what was written. */
static int count(int b) {
  int n = 0;
  for (int i = 0; i < N; i++) {
    int k = __atomic_load_n(&offered[b][i], __ATOMIC_RELAXED);
    CHECKF(k <= 1, "object %d of batch %d offered %d times", i, b, k);
    if (k) {
      obj *o = kept[b][i];
      CHECKF(o->magic == MAGIC && o->batch == (uintptr_t)b &&
                 o->index == (uintptr_t)i,
             "kept object %p (batch %d, %d) was reused", (void *)o, b, i);
      n++;
    }
  }
  return n;
}

int main(void) {
  sgc_init();
  obj **live = sgc_alloc(N * sizeof *live);
  for (uintptr_t i = 0; i < N; i++) {
    live[i] = sgc_alloc(sizeof(obj));
    *live[i] = (obj){.magic = MAGIC, .batch = 2, .index = i};
  }
  CHECK(sgc_set_reclaim_hook(hook) == NULL);

  /* Majors: each dropped object offered once and kept. */
  drop_batch(0);
  clear_stack();
  for (int i = 0; i < 3; i++)
    sgc_collect();
  int n0 = count(0);
  printf("batch 0: %d of %d offered after 3 major collections\n", n0, N);
  CHECKF(n0 >= N * 9 / 10, "%d", n0);

  /* Minors: a young batch dropped, then allocation drives automatic
   * collections (minor ones when generations are on). */
  sgc_stats st0, st1;
  sgc_read_stats(&st0);
  drop_batch(1);
  clear_stack();
  churn(scaled(256L << 20));
  sgc_read_stats(&st1);
  int n1 = count(1);
  printf("batch 1: %d of %d offered; %llu collections, %llu minor "
         "(generational %d)\n", n1, N,
         (unsigned long long)(st1.num_gc - st0.num_gc),
         (unsigned long long)(st1.num_minor_gc - st0.num_minor_gc),
         st1.generational);
  CHECK(st1.num_gc > st0.num_gc);
  if (st1.generational)
    CHECK(st1.num_minor_gc > st0.num_minor_gc);
  CHECKF(n1 >= N * 9 / 10, "%d", n1);
  sgc_collect();
  /* Still intact, each still offered once (count checks both); a few
   * more may have been offered since, once stale stack words that kept
   * them through the first collections were gone (AddressSanitizer's
   * frames left some: count(0) grew past n0 in one CI run). */
  CHECK(count(0) >= n0);
  count(1);
  CHECK(__atomic_load_n(&reachable_offered, __ATOMIC_RELAXED) == 0);
  for (uintptr_t i = 0; i < N; i++)
    CHECK(live[i]->magic == MAGIC && live[i]->index == i);

  /* sgc_free releases kept objects: no longer offered, memory reused. */
  for (int i = 0; i < N; i++)
    if (offered[0][i]) {
      sgc_free(kept[0][i]);
      kept[0][i] = NULL;
    }
  sgc_collect();
  for (int i = 0; i < N; i++)
    CHECK(offered[0][i] <= 1);

  /* Without the hook, garbage is reclaimed as usual and offered to none. */
  CHECK(sgc_set_reclaim_hook(NULL) == hook);
  memset(offered, 0, sizeof offered);
  drop_batch(0);
  clear_stack();
  sgc_collect();
  sgc_collect();
  int nn = 0;
  for (int i = 0; i < N; i++)
    nn += offered[0][i];
  CHECK(nn == 0);
  return 0;
}
