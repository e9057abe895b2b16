// labels: gc
/* Generational collection and weak slots (sgc_register_weak).  The slots
 * lie in old noscan heap objects ("boxes", made old by a collection) and
 * in malloc'ed memory; each round registers them anew on young objects:
 *  - a slot whose young object dies is set to NULL by the next minor
 *    collection, with no major one in between (>= 90% of them per kind of
 *    slot: a stale stack word may keep a few objects);
 *  - a slot whose young object lives is left alone (exact), across that
 *    minor and several more, and its object (and the noscan child it
 *    points to) stays intact; such an object is reachable only through an
 *    old holder written after it became old (the holder's page is written,
 *    so only the kernel's record of written pages keeps it).  The next
 *    round re-targets the slot (registering it again) to a new young one.
 * Old objects (made old by the first collection) with slots on them
 * (boxes and malloc'ed memory too) then become unreachable: minor
 * collections leave their slots alone and their objects intact (exact),
 * since minors do not look at old objects; sgc_collect (a major one)
 * clears them (>= 90% per kind).
 * With SPANGC_GENERATIONAL=0 or SPANGC_DIRTY=off the same checks hold
 * across ordinary collections, except that the old objects' slots may be
 * cleared before sgc_collect (not checked).
 * Catches: weak_process skipped by minor collections (finalizer.c: dead
 * young objects' slots left set on freed, reused memory); weak_forget_dead
 * dropping registrations whose slot lies in a live old heap object during
 * a minor (the old objects' box slots are then never cleared); a minor
 * collection that clears the old marks (the old objects' slots cleared
 * without a major collection); the written holders' pages not scanned
 * (the live young objects' slots cleared). */
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define N 512      /* young pairs (live, dead) per round */
#define PER_BOX 64 /* pairs of slots per box */
#define NBOX (N / PER_BOX)
#define NOLDT 512  /* old targets */
#define ROUNDS 10
#define MORE 3     /* minors after the first one of a round */

typedef struct holder {
  void *ref;
  uint64_t tag;
} holder;

holder *volatile g_hold[N];         /* roots: the holders (old) */
void **volatile g_box[NBOX];        /* roots: noscan boxes of young slots */
void **volatile g_oldbox;           /* root: noscan box of old targets' slots */
void *volatile g_oldt[NOLDT];       /* roots of the old targets, dropped later */
static void **mslots;               /* malloc'ed: 2 * N young slots */
static void **moldslots;            /* malloc'ed: NOLDT old targets' slots */
static void **live_of;              /* malloc'ed: the live object of pair i */

static uint64_t tag_of(int kind, int r, long i) {
  return 0x7700000000000000ull | ((uint64_t)kind << 48) |
         ((uint64_t)r << 32) | (uint64_t)i;
}

/* Young objects: 64 bytes (run_minors' garbage size, so a wrongly freed
 * one is soon overwritten), with a noscan child. */

/* Slot k of pair i: box slot (0: live, 1: dead), malloc slot. */
static void **box_slot(long i, int dead) {
  return &g_box[i / PER_BOX][2 * (i % PER_BOX) + dead];
}
static void **mal_slot(long i, int dead) { return &mslots[2 * i + dead]; }

__attribute__((noinline)) static void make_old(void) {
  for (long i = 0; i < N; i++) {
    holder *h = sgc_alloc(sizeof *h);
    CHECK(h != NULL);
    h->tag = tag_of(1, 0, i);
    g_hold[i] = h;
  }
  for (int b = 0; b < NBOX; b++) {
    g_box[b] = sgc_alloc_noscan(2 * PER_BOX * sizeof(void *));
    CHECK(g_box[b] != NULL);
  }
  g_oldbox = sgc_alloc_noscan(NOLDT * sizeof(void *));
  CHECK(g_oldbox != NULL);
  for (long i = 0; i < NOLDT; i++) {
    void *t = tagged_new(tag_of(2, 0, i));
    g_oldt[i] = t;
    g_oldbox[i] = t;
    moldslots[i] = t;
    CHECK(sgc_register_weak(&g_oldbox[i], t) == 0);
    CHECK(sgc_register_weak(&moldslots[i], t) == 0);
  }
}

/* A round's young objects: the live one of pair i only in holder i
 * (written now that the holder is old), the dead one nowhere; four slots
 * registered on them. */
__attribute__((noinline)) static void make_young(int r) {
  for (long i = 0; i < N; i++) {
    uint64_t *y = tagged_new(tag_of(3, r, i)), *d = tagged_new(tag_of(4, r, i));
    g_hold[i]->ref = y;
    live_of[i] = y; /* malloc'ed: keeps nothing */
    *box_slot(i, 0) = y;
    *mal_slot(i, 0) = y;
    *box_slot(i, 1) = d;
    *mal_slot(i, 1) = d;
    CHECK(sgc_register_weak(box_slot(i, 0), y) == 0);
    CHECK(sgc_register_weak(mal_slot(i, 0), y) == 0);
    CHECK(sgc_register_weak(box_slot(i, 1), d) == 0);
    CHECK(sgc_register_weak(mal_slot(i, 1), d) == 0);
  }
}

/* Every live slot still holds its object, intact and held by its holder. */
static void check_live(int r, const char *when) {
  for (long i = 0; i < N; i++) {
    void *y = live_of[i];
    CHECKF(*box_slot(i, 0) == y, "round %d %s: the box slot of live young "
           "object %ld was %s", r, when, i,
           *box_slot(i, 0) ? "changed" : "cleared");
    CHECKF(*mal_slot(i, 0) == y, "round %d %s: the malloc'ed slot of live "
           "young object %ld was %s", r, when, i,
           *mal_slot(i, 0) ? "changed" : "cleared");
    CHECKF(g_hold[i]->ref == y && tagged_intact(y, tag_of(3, r, i)),
           "round %d %s: live young object %ld corrupted", r, when, i);
  }
}

int main(void) {
  sgc_init();
  mslots = calloc(2 * N, sizeof *mslots);
  moldslots = calloc(NOLDT, sizeof *moldslots);
  live_of = calloc(N, sizeof *live_of);
  CHECK(mslots != NULL && moldslots != NULL && live_of != NULL);
  make_old();
  clear_stack();
  sgc_collect(); /* holders, boxes and old targets are old */
  int gen = generational();
  sgc_stats st0, st;
  sgc_read_stats(&st0);
  uint64_t minors = 0;

  for (int r = 0; r < ROUNDS; r++) {
    make_young(r);
    clear_stack();
    minors += run_minors(1);
    long box_cleared = 0, mal_cleared = 0;
    for (long i = 0; i < N; i++) {
      void *b = *box_slot(i, 1), *m = *mal_slot(i, 1);
      box_cleared += b == NULL;
      mal_cleared += m == NULL;
      /* Kept by a stale word: still registered and intact. */
      CHECKF(b == NULL || tagged_intact(b, tag_of(4, r, i)), "round %d: the box "
             "slot of dead young object %ld was neither cleared nor left "
             "on an intact object", r, i);
      CHECKF(m == NULL || tagged_intact(m, tag_of(4, r, i)), "round %d: the "
             "malloc'ed slot of dead young object %ld was neither cleared "
             "nor left on an intact object", r, i);
    }
    if (r == 0 || box_cleared < N * 9 / 10 || mal_cleared < N * 9 / 10)
      printf("round %d: dead young objects' slots cleared by a minor: box "
             "%ld/%d, malloc'ed %ld/%d\n", r, box_cleared, N, mal_cleared, N);
    CHECKF(box_cleared >= N * 9 / 10, "round %d: only %ld of %d box slots "
           "of dead young objects were cleared", r, box_cleared, N);
    CHECKF(mal_cleared >= N * 9 / 10, "round %d: only %ld of %d malloc'ed "
           "slots of dead young objects were cleared", r, mal_cleared, N);
    check_live(r, "after its first minor");
    for (int k = 0; k < MORE; k++) {
      minors += run_minors(1);
      check_live(r, "after more minors");
    }
  }
  sgc_read_stats(&st);
  printf("%d rounds: %llu minor collections, %llu major\n", ROUNDS,
         (unsigned long long)minors,
         (unsigned long long)(st.num_major_gc - st0.num_major_gc));
  if (gen) {
    CHECKF(minors >= (uint64_t)ROUNDS * (1 + MORE), "only %llu minor "
           "collections ran", (unsigned long long)minors);
    CHECKF(st.num_major_gc == st0.num_major_gc, "a major collection ran "
           "among the minors: the checks need minors only");
  }

  /* The old targets become unreachable: minors leave their slots. */
  for (long i = 0; i < NOLDT; i++)
    g_oldt[i] = NULL;
  clear_stack();
  sgc_read_stats(&st0);
  minors = run_minors(4);
  sgc_read_stats(&st);
  if (gen) {
    CHECKF(minors >= 4, "only %llu minor collections ran",
           (unsigned long long)minors);
    CHECKF(st.num_major_gc == st0.num_major_gc, "a major collection ran "
           "among the minors");
    for (long i = 0; i < NOLDT; i++) {
      CHECKF(g_oldbox[i] != NULL && moldslots[i] == g_oldbox[i],
             "a slot of dead old object %ld was cleared by a minor "
             "collection (box %p, malloc'ed %p)", i, g_oldbox[i],
             moldslots[i]);
      CHECKF(tagged_intact(g_oldbox[i], tag_of(2, 0, i)), "dead old object %ld "
             "was freed by a minor collection", i);
    }
  }
  sgc_collect();
  long box_cleared = 0, mal_cleared = 0;
  for (long i = 0; i < NOLDT; i++) {
    box_cleared += g_oldbox[i] == NULL;
    mal_cleared += moldslots[i] == NULL;
  }
  printf("dead old objects' slots cleared by sgc_collect: box %ld/%d, "
         "malloc'ed %ld/%d\n", box_cleared, NOLDT, mal_cleared, NOLDT);
  CHECKF(box_cleared >= NOLDT * 9 / 10 && mal_cleared >= NOLDT * 9 / 10,
         "sgc_collect cleared only %ld box and %ld malloc'ed slots of %d "
         "dead old objects", box_cleared, mal_cleared, NOLDT);
  /* The last round's young objects (old now) still live. */
  check_live(ROUNDS - 1, "after sgc_collect");
  return 0;
}
