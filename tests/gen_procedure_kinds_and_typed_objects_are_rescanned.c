// labels: gc
/* Generational collection and objects not scanned word by word:
 *  - an old object of a mark-procedure kind (SGC_MAKE_PROC), on a page
 *    written since it became old, is traced by its procedure: the object
 *    holds its young referent only hidden (the address xor a key), which
 *    the procedure reveals and hands to sgc_mark_and_push; a word-by-word
 *    scan would not find it;
 *  - an old typed object (sgc_alloc_typed, a descriptor with one pointer
 *    word) written with a pointer to a young object keeps it.
 * The young objects (only kept that way) survive several minor
 * collections intact, round after round (exact); minors must run when
 * generations are on.
 * Catches: scan_dirty scanning old objects of a written page word by word
 * instead of by their kind (the hidden referents die), or not at all. */
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define N 300
#define ROUNDS 5
#define KEY ((uintptr_t)0x5a5a000000000000ull)

typedef struct pobj {
  uintptr_t hidden; /* young referent ^ KEY */
  uint64_t tag;
} pobj;

typedef struct tobj {
  uint64_t a;
  void *ptr; /* the one pointer word */
  uint64_t b;
} tobj;

pobj *volatile g_p[N];
tobj *volatile g_t[N];
static uint64_t ptags[N], ttags[N];

static sgc_mark_entry *pproc(uintptr_t *addr, sgc_mark_entry *top,
                             sgc_mark_entry *limit, uintptr_t env) {
  (void)env;
  pobj *o = (pobj *)addr;
  if (o->hidden != 0) {
    void *p = (void *)(o->hidden ^ KEY);
    top = sgc_mark_and_push(p, top, limit, (void **)&o->hidden);
  }
  return top;
}

__attribute__((noinline)) static void make(int kind, uintptr_t descr) {
  for (int i = 0; i < N; i++) {
    g_p[i] = sgc_alloc_kind(sizeof(pobj), kind);
    g_t[i] = sgc_alloc_typed(sizeof(tobj), descr);
    CHECK(g_p[i] != NULL && g_t[i] != NULL);
  }
}

__attribute__((noinline)) static void store(int r) {
  for (int i = 0; i < N; i++) {
    ptags[i] = 0x2200000000000000ull | ((uint64_t)r << 32) | (uint64_t)i;
    ttags[i] = 0x2300000000000000ull | ((uint64_t)r << 32) | (uint64_t)i;
    g_p[i]->hidden = (uintptr_t)tagged_new(ptags[i]) ^ KEY;
    g_p[i]->tag = ptags[i];
    g_t[i]->ptr = tagged_new(ttags[i]);
    g_t[i]->a = g_t[i]->b = ttags[i];
  }
}

__attribute__((noinline)) static void check_all(const char *when) {
  for (int i = 0; i < N; i++) {
    CHECKF(g_p[i]->tag == ptags[i] &&
               tagged_intact((const uint64_t *)(g_p[i]->hidden ^ KEY), ptags[i]),
           "%s: procedure-kind object %d lost its hidden young referent",
           when, i);
    CHECKF(g_t[i]->a == ttags[i] && tagged_intact(g_t[i]->ptr, ttags[i]),
           "%s: typed object %d lost its young referent", when, i);
  }
}

int main(void) {
  sgc_init();
  int proc = sgc_new_mark_proc(pproc);
  CHECK(proc >= 0);
  int kind = sgc_new_kind(SGC_MAKE_PROC(proc, 0), 0);
  CHECK(kind >= 0);
  uintptr_t bitmap = 1u << 1; /* word 1 */
  uintptr_t descr = sgc_make_descriptor(&bitmap, 3);
  make(kind, descr);
  clear_stack();
  sgc_collect(); /* old now */
  int gen = generational();
  uint64_t minors = 0;
  for (int r = 0; r < ROUNDS; r++) {
    store(r);
    clear_stack();
    minors += run_minors(3);
    check_all("after minor collections");
  }
  printf("%d rounds, %llu minor collections (generational %d)\n", ROUNDS,
         (unsigned long long)minors, gen);
  if (gen)
    CHECKF(minors >= ROUNDS, "only %llu minor collections ran",
           (unsigned long long)minors);
  sgc_collect();
  check_all("after a major collection");
  return 0;
}
