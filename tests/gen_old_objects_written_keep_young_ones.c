// labels: gc threads
/* Generational collection (minor collections on sticky mark bits): old
 * objects (holders, made old by a collection) get pointers to young
 * objects stored into them by every kind of store the program may use:
 * plain stores, memcpy and memmove (libc's, called through a pointer),
 * __atomic stores, __atomic compare-and-swap, and plain stores by another
 * registered thread.  The young objects are reachable only through the
 * holders (the staging array is cleared, the stack too), so only the
 * kernel's record of written pages keeps them: each round they must
 * survive several minor collections intact, and so must the noscan child
 * each young object points to (exact).  Minor collections must actually
 * run when generations are on; with SPANGC_GENERATIONAL=0 or
 * SPANGC_DIRTY=off the same checks hold across ordinary collections.
 * Catches: scan_dirty not scanning written pages (mark.c), written pages
 * not listed (dirty.c). */
#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define NHOLD 96
#define NSLOT 32
#define RUN 8 /* slots replaced per holder per round */
#define NMODES 6
#define ROUNDS 12

typedef struct holder {
  void *slot[NSLOT];
} holder;

holder *volatile g_hold[NHOLD];      /* roots: the holders (old) */
void *volatile g_stage[NHOLD * RUN]; /* root while a round is staged */
static uint64_t *tags;               /* malloc'ed: tag of each slot */
static const char *mode_name[NMODES] = {"plain",  "memcpy", "memmove",
                                        "atomic", "cas",    "thread"};
static void *(*volatile memcpy_fn)(void *, const void *, size_t) = memcpy;
static void *(*volatile memmove_fn)(void *, const void *, size_t) = memmove;

/* Young objects: 64 bytes (run_minors' garbage size, so a wrongly freed
 * one is soon overwritten), with a noscan child. */

/* ---------------------------------------------- the storing thread */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int req_hold = -1, req_at, req_stage, req_done, req_quit;

__attribute__((noinline)) static void thread_store(int h, int at, int k) {
  holder *o = g_hold[h];
  for (int i = 0; i < RUN; i++)
    o->slot[at + i] = g_stage[k + i];
}

static void *storer(void *arg) {
  (void)arg;
  for (;;) {
    lock_blocking(&mu);
    while (req_hold < 0 && !req_quit) {
      sgc_enter_blocking();
      pthread_cond_wait(&cv, &mu);
      sgc_exit_blocking();
    }
    if (req_quit) {
      pthread_mutex_unlock(&mu);
      return NULL;
    }
    thread_store(req_hold, req_at, req_stage);
    clear_stack();
    req_hold = -1;
    req_done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
  }
}

static void store_by_thread(int h, int at, int k) {
  lock_blocking(&mu);
  req_hold = h;
  req_at = at;
  req_stage = k;
  req_done = 0;
  pthread_cond_broadcast(&cv);
  while (!req_done) {
    sgc_enter_blocking();
    pthread_cond_wait(&cv, &mu);
    sgc_exit_blocking();
  }
  pthread_mutex_unlock(&mu);
}

/* ---------------------------------------------- rounds */

__attribute__((noinline)) static void make_holders(void) {
  for (int h = 0; h < NHOLD; h++) {
    holder *o = sgc_alloc(sizeof *o);
    CHECK(o != NULL);
    g_hold[h] = o;
  }
}

/* Stage this round's young objects (root: g_stage), then store them into
 * the old holders, each holder by one mode, then forget the stage. */
__attribute__((noinline)) static void store_round(int r) {
  int at = (r * RUN) % NSLOT;
  for (int h = 0; h < NHOLD; h++)
    for (int i = 0; i < RUN; i++) {
      uint64_t tag = ((uint64_t)r << 40) | ((uint64_t)h << 16) |
                     (uint64_t)(at + i) | 0x7700000000000000ull;
      tags[h * NSLOT + at + i] = tag;
      g_stage[h * RUN + i] = tagged_new(tag);
    }
  for (int h = 0; h < NHOLD; h++) {
    holder *o = g_hold[h];
    int k = h * RUN;
    switch ((h + r) % NMODES) {
    case 0:
      for (int i = 0; i < RUN; i++)
        o->slot[at + i] = g_stage[k + i];
      break;
    case 1:
      memcpy_fn(&o->slot[at], (const void *)&g_stage[k], RUN * sizeof(void *));
      break;
    case 2:
      /* Overlapping move inside the holder: stage into the slots first
       * with memmove from the stage, then shift by one and put the first
       * back (every slot ends as staged). */
      memmove_fn(&o->slot[at], (const void *)&g_stage[k], RUN * sizeof(void *));
      memmove_fn(&o->slot[at + 1], &o->slot[at], (RUN - 1) * sizeof(void *));
      memmove_fn(&o->slot[at], (const void *)&g_stage[k], sizeof(void *));
      for (int i = 1; i < RUN; i++)
        CHECK(o->slot[at + i] == g_stage[k + i - 1]);
      memmove_fn(&o->slot[at + 1], (const void *)&g_stage[k + 1],
                 (RUN - 1) * sizeof(void *));
      break;
    case 3:
      for (int i = 0; i < RUN; i++)
        __atomic_store_n(&o->slot[at + i], g_stage[k + i], __ATOMIC_SEQ_CST);
      break;
    case 4:
      for (int i = 0; i < RUN; i++) {
        void *old = __atomic_load_n(&o->slot[at + i], __ATOMIC_RELAXED);
        CHECK(__atomic_compare_exchange_n(&o->slot[at + i], &old,
                                          g_stage[k + i], 0, __ATOMIC_ACQ_REL,
                                          __ATOMIC_RELAXED));
      }
      break;
    case 5:
      store_by_thread(h, at, k);
      break;
    }
  }
  for (int i = 0; i < NHOLD * RUN; i++)
    g_stage[i] = NULL;
}

__attribute__((noinline)) static void check_all(int upto, const char *when) {
  for (int h = 0; h < NHOLD; h++)
    for (int j = 0; j < NSLOT; j++) {
      uint64_t tag = tags[h * NSLOT + j];
      if (tag == 0)
        continue;
      int r = (int)((tag >> 40) & 0xffff);
      const uint64_t *y = g_hold[h]->slot[j];
      CHECKF(tagged_intact(y, tag),
             "%s: holder %d slot %d (stored in round %d of %d by %s) lost "
             "its young object %p", when, h, j, r, upto,
             mode_name[(h + r) % NMODES], (void *)y);
    }
}

int main(void) {
  sgc_init();
  sgc_set_finalizer_thread(0);
  tags = calloc(NHOLD * NSLOT, sizeof *tags);
  CHECK(tags != NULL);
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, storer, NULL) == 0);

  make_holders();
  clear_stack();
  sgc_collect(); /* the holders are old now */
  int gen = generational();
  uint64_t m0 = minor_count();
  uint64_t minors = 0;
  int rounds = (int)scaled(ROUNDS) < 3 ? 3 : (int)scaled(ROUNDS);
  for (int r = 0; r < rounds; r++) {
    store_round(r);
    clear_stack();
    minors += run_minors(3);
    check_all(r, "after minors");
  }
  CHECK(minor_count() - m0 == minors);
  printf("%d rounds, %d holders, %llu minor collections (generational %d)\n",
         rounds, NHOLD, (unsigned long long)minors, gen);
  if (gen)
    CHECKF(minors >= (uint64_t)rounds, "only %llu minor collections ran",
           (unsigned long long)minors);
  /* A major collection keeps them too. */
  sgc_collect();
  check_all(rounds - 1, "after a major collection");

  lock_blocking(&mu);
  req_quit = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  sgc_enter_blocking();
  pthread_join(t, NULL);
  sgc_exit_blocking();
  return 0;
}
