/*
 * stress.c — stress and soak program for spangc.
 *
 *   stress [--seconds S] [--threads N] [--seed X] [--soak] [--arena-bound R]
 *          [--no-slope]
 *
 * N worker threads (default 8) build and drop random object graphs: trees
 * of objects of random sizes (16 B .. 32 KiB, some large ones up to
 * ~3 MiB), scanned and noscan, some with finalizers, some with weak slots
 * (malloc'ed, so they do not keep their object alive).  Workers live for a
 * random 0.5-4 s and are replaced by new threads (sgc_pthread_create) that
 * inherit their graphs; workers also start short helper threads whose only
 * reference to a fresh tree is the thread argument, enter blocking regions
 * (sgc_enter_blocking + usleep + sgc_exit_blocking), force collections
 * (sgc_collect), explicitly sgc_free whole subtrees they own exclusively
 * (after unlinking them), publish immutable trees in a shared exchange and
 * verify the trees other threads published.
 *
 * The live graph: every worker slot has NROOTS root pointers (bss, so
 * scanned); the exchange has NSHARED slots (bss).  Each regular object
 * carries a header (magic, id, size/kind/flags, an "alive" word, its weak
 * slot) and a checksum over the header and a sample of its payload.
 * "alive" is 1 exactly while the object is reachable from the live graph
 * (or from the stack of the thread building or visiting it): a worker
 * clears it in a whole subtree before unlinking the subtree.  Losses
 * (objects lost must be 0, else exit 1):
 *   - a checksum or magic mismatch when an object is visited;
 *   - a finalizer running on an object whose "alive" is 1, or whose
 *     checksum does not match, or whose weak slot was not cleared first;
 *   - a weak slot found cleared while its object is alive;
 *   - sgc_unregister_weak of a live object's slot not finding it;
 *   - sgc_base/sgc_size disagreeing on a live object.
 * Because scanning is conservative, nothing requires a particular dropped
 * object to be collected; only aggregate figures are printed.
 *
 * A sampler thread (plain pthread, never touches the heap except for
 * sgc_read_stats) reads /proc/self/statm every 0.5 s.  At the end the
 * program prints the number of collections, objects verified, objects
 * lost, finalizers registered/cancelled/run (and the library's
 * queued/run), weak slots, the peak RSS and the RSS slope after warm-up:
 * a least-squares line through the samples taken after the first 20% of
 * the run, in MB per minute.
 *
 * --soak additionally fails if that slope is clearly positive:
 *     slope > max(SOAK_SLOPE_PCT% of the mean RSS after warm-up, SOAK_FLOOR_MB)
 * per minute (2% and 0.5 MB/min: a 10-minute soak that grows 16% over its
 * last 8 minutes fails; noise from large objects coming and going stays
 * well below), and needs at least 20 samples after warm-up.
 *
 * The sampler also records the committed arena (sgc_stats
 * arena_committed_bytes); the program prints its slope after warm-up and
 * its final size against the most pages ever in use (peak_span_bytes).
 * --arena-bound R fails if the final committed arena exceeds R times that
 * peak plus 4 MiB: the arena must grow only for pages in use, not because
 * free runs are not found again (the short soak in ctest uses it).
 * --no-slope shows the RSS slope without judging it: over the 72 s after
 * a 90 s run's warm-up the slope is noise (a fresh-clone make check saw
 * +4.25% of the mean per minute once in three runs, while 600 s soaks stay
 * near 0.1%), so the short soak in ctest judges only the arena bound and
 * losses, and make soak the slope.
 *
 * --seconds is multiplied by SPANGC_TEST_SCALE (check.h) unless --soak is
 * given, so sanitizer builds run shorter.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "spangc.h"

#define MAXT 64        /* worker slots */
#define NROOTS 8       /* root trees per worker slot */
#define NSHARED 16     /* exchange slots */
#define MAXDEPTH 10
#define PENDING_CAP 4096
#define SOAK_SLOPE_PCT 2.0
#define SOAK_FLOOR_MB 0.5
#define WARMUP_FRACTION 0.2

#define NODE_MAGIC 0xE5C0FFEE5EEDF00Dull /* top bits 111 */
#define MINI_TAG (1ull << 63)            /* top bits 100 */
#define TAG_MASK (7ull << 61)
#define HDR_WORDS 6
#define MAXCHILD 8

enum { F_FIN = 1, F_WEAK = 2 };

/* A regular object (>= 48 bytes).  Objects of 16..47 bytes are "mini":
 * word 0 = MINI_TAG | id, the other words a pattern of id. */
typedef struct node {
  uint64_t magic;
  uint64_t id;
  uint64_t info;  /* size | nchild << 32 | noscan << 48 | flags << 56 */
  uint64_t alive; /* atomic: 1 while reachable from the live graph */
  void **slot;    /* weak slot (malloc'ed) or NULL */
  uint64_t sum;
  void *child[]; /* nchild pointers (scanned objects only), then payload */
} node;

static inline uint32_t info_size(uint64_t i) { return (uint32_t)i; }
static inline uint32_t info_nchild(uint64_t i) { return (i >> 32) & 0xffff; }
static inline int info_flags(uint64_t i) { return (i >> 56) & 0xff; }

/* ------------------------------------------------------------ the graph */

typedef struct pending {
  void **slot;
} pending;

typedef struct wslot {
  void *roots[NROOTS]; /* the live graph of this slot (bss: a root) */
  pthread_t tid;
  int running;
  int done; /* atomic: the worker finished */
  unsigned gen;
  double lifetime;
  /* Weak slots of dropped weak-only objects, waiting to be cleared. */
  pending *pend;
  int npend;
  uint64_t rng;
  uint64_t idnext, idend;
  /* counters (owner thread) */
  uint64_t verified, built, freed, weak_cleared, weak_abandoned;
  uint64_t fin_set, fin_cancelled, weak_set, blocking, collects, helpers,
      published, shared_reads;
} wslot;

static wslot W[MAXT];
static void *shared[NSHARED];
static pthread_mutex_t shared_lock[NSHARED];

static int opt_threads = 8;
static double opt_seconds = 20;
static uint64_t opt_seed;
static bool opt_soak;
static double opt_arena_bound; /* 0: no bound */
static bool opt_slope = true;   /* --no-slope: the RSS slope is only shown */
static double run_seconds;
/* Diagnosis only: STRESS_DISABLE=free,helper,blocking,collect,shared,noise,
 * fin,weak,modify,halloc (helper threads do not allocate) turns features off to find which one a failure needs. */
static bool no_free, no_helper, no_blocking, no_collect, no_shared, no_noise,
    no_fin, no_weak, no_modify, no_helper_alloc;

static int g_stop;                  /* atomic */
static uint64_t g_lost;             /* atomic */
static uint64_t g_fin_run;          /* atomic: our finalizer ran */
static uint64_t g_fin_bad;          /* atomic */
static uint64_t g_ids;              /* atomic */
static uint64_t g_threads_started;  /* atomic */
static uint64_t g_helper_verified;  /* atomic */
static struct timespec t0;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) * 1e-9;
}

static uint64_t rnd(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1Dull;
}
static uint64_t hmix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ull;
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}
/* Payload words have bit 63 set: never a heap address. */
static uint64_t pat(uint64_t id, size_t i) {
  return hmix(id * 0xbf58476d1ce4e5b9ull, i) | (1ull << 63);
}

static __thread const char *t_who = "main";

static void lost(const char *what, const void *p, uint64_t id) {
  uint64_t n = __atomic_add_fetch(&g_lost, 1, __ATOMIC_SEQ_CST);
  if (n <= 20)
    fprintf(stderr, "stress: LOST object %p (id %llx) [%s]: %s\n", p,
            (unsigned long long)id, t_who, what);
}

static uint64_t new_id(wslot *w) {
  if (w->idnext == w->idend) {
    w->idnext = __atomic_fetch_add(&g_ids, 1u << 20, __ATOMIC_RELAXED);
    w->idend = w->idnext + (1u << 20);
  }
  return (w->idnext++) & ((1ull << 61) - 1);
}

/* ------------------------------------------------------------ checksums */

static void payload_range(const node *n, size_t *first, size_t *words,
                          size_t *stride) {
  *first = HDR_WORDS + info_nchild(n->info);
  *words = info_size(n->info) / 8;
  size_t cnt = *words > *first ? *words - *first : 0;
  *stride = cnt <= 64 ? 1 : cnt / 64;
}

static uint64_t node_sum(const node *n) {
  const uint64_t *w = (const uint64_t *)n;
  uint64_t h = hmix(0x5eed, n->magic);
  h = hmix(h, n->id);
  h = hmix(h, n->info);
  h = hmix(h, (uint64_t)(uintptr_t)n->slot);
  size_t first, words, stride;
  payload_range(n, &first, &words, &stride);
  for (size_t i = first; i < words; i += stride)
    h = hmix(h, w[i]);
  if (words > first)
    h = hmix(h, w[words - 1]);
  return h;
}

static void node_fill(node *n) {
  uint64_t *w = (uint64_t *)n;
  size_t first, words, stride;
  payload_range(n, &first, &words, &stride);
  for (size_t i = first; i < words; i += stride)
    w[i] = pat(n->id, i);
  if (words > first)
    w[words - 1] = pat(n->id, words - 1);
  n->sum = node_sum(n);
}

/* Is p a sound object?  Returns 1 regular, 2 mini, 0 corrupt. */
static int obj_check(const void *p, size_t mini_size_hint) {
  const uint64_t *w = p;
  uint64_t w0 = w[0];
  if (w0 == NODE_MAGIC)
    return node_sum(p) == ((const node *)p)->sum ? 1 : 0;
  if ((w0 & TAG_MASK) == MINI_TAG) {
    uint64_t id = w0 & ~TAG_MASK;
    for (size_t i = 1; i < mini_size_hint / 8; i++)
      if (w[i] != pat(id, i))
        return 0;
    return 2;
  }
  return 0;
}

/* --------------------------------------------------------------- objects */

static void finalize(void *obj, void *arg) {
  (void)arg;
  t_who = "finalizer";
  node *n = obj;
  __atomic_add_fetch(&g_fin_run, 1, __ATOMIC_SEQ_CST);
  if (n->magic != NODE_MAGIC || node_sum(n) != n->sum) {
    lost("finalizer: checksum mismatch", n, n->id);
    return;
  }
  if (__atomic_load_n(&n->alive, __ATOMIC_ACQUIRE))
    lost("finalizer ran while the object is reachable from the graph", n,
         n->id);
  if (n->slot) {
    void *v = __atomic_load_n(n->slot, __ATOMIC_ACQUIRE);
    if (v != NULL) {
      __atomic_add_fetch(&g_fin_bad, 1, __ATOMIC_SEQ_CST);
      lost("finalizer ran before its weak slot was cleared", n, n->id);
    }
    sgc_unregister_weak(n->slot); /* 0 or ENOENT: both fine */
    free(n->slot);
  }
}

static size_t pick_size(uint64_t *r) {
  uint32_t k = rnd(r) % 1000;
  if (k < 150)
    return 16 + rnd(r) % 32; /* mini */
  if (k < 650)
    return 48 + rnd(r) % 464;
  if (k < 880)
    return 512 + rnd(r) % 3584;
  if (k < 985)
    return 4096 + rnd(r) % (32768 - 4096 + 1);
  if (k < 998)
    return 32769 + rnd(r) % (256 << 10);
  return (256 << 10) + rnd(r) % (3 << 20); /* up to ~3.25 MiB */
}

static void *new_mini(wslot *w, size_t size, bool noscan) {
  size &= ~(size_t)7;
  uint64_t *p = noscan ? sgc_alloc_noscan(size) : sgc_alloc(size);
  CHECKF(p != NULL, "allocation of %zu bytes failed", size);
  uint64_t id = new_id(w);
  p[0] = MINI_TAG | id;
  for (size_t i = 1; i < size / 8; i++)
    p[i] = pat(id, i);
  w->built++;
  return p;
}

/* A regular object; nchild child slots (zero: the caller links them). */
static node *new_node(wslot *w, size_t size, uint32_t nchild, bool noscan,
                      bool allow_weak, bool alive) {
  if (size < 48)
    size = 48;
  if (noscan)
    nchild = 0;
  if (size < (HDR_WORDS + nchild) * 8)
    size = (HDR_WORDS + nchild) * 8;
  size &= ~(size_t)7;
  node *n = noscan ? sgc_alloc_noscan(size) : sgc_alloc(size);
  CHECKF(n != NULL, "allocation of %zu bytes failed", size);
  int flags = 0;
  uint64_t r = rnd(&w->rng) % 100;
  if (r < 10 && !no_fin)
    flags |= F_FIN;
  if (allow_weak && !no_weak && (r >= 5 && r < 15))
    flags |= F_WEAK;
  n->magic = NODE_MAGIC;
  n->id = new_id(w);
  n->info = size | (uint64_t)nchild << 32 | (uint64_t)noscan << 48 |
            (uint64_t)flags << 56;
  __atomic_store_n(&n->alive, alive, __ATOMIC_RELEASE);
  n->slot = NULL;
  if (flags & F_WEAK) {
    n->slot = malloc(sizeof(void *));
    CHECK(n->slot != NULL);
    *n->slot = n;
  }
  for (uint32_t i = 0; i < nchild; i++)
    n->child[i] = NULL;
  node_fill(n);
  if (flags & F_WEAK) {
    CHECK(sgc_register_weak(n->slot, n) == 0);
    w->weak_set++;
  }
  if (flags & F_FIN) {
    CHECK(sgc_set_finalizer(n, finalize, NULL) == 0);
    w->fin_set++;
  }
  w->built++;
  return n;
}

/* A random tree of at most *budget objects. */
static void *build(wslot *w, int depth, int *budget, bool allow_weak) {
  (*budget)--;
  size_t size = pick_size(&w->rng);
  uint64_t r = rnd(&w->rng);
  if (size < 48)
    return new_mini(w, size, r & 1);
  bool leaf = depth >= MAXDEPTH || *budget <= 0 || (r % 8) == 0;
  bool noscan = leaf && (r % 3) == 0;
  uint32_t nchild = leaf ? 0 : 1 + (uint32_t)((r >> 8) % MAXCHILD);
  node *n = new_node(w, size, nchild, noscan, allow_weak, true);
  for (uint32_t i = 0; i < nchild && *budget > 0; i++)
    if ((rnd(&w->rng) % 4) != 0)
      n->child[i] = build(w, depth + 1, budget, allow_weak);
  return n;
}

static void verify(wslot *w, void *p, int depth, bool must_be_alive,
                   uint64_t *count) {
  if (p == NULL)
    return;
  /* build() makes trees of depth <= MAXDEPTH; op_modify attaches subtrees
   * built from depth MAXDEPTH/2 under parents at depth <= MAXDEPTH - 1, so
   * a tree reaches depth MAXDEPTH + MAXDEPTH/2 at most.  Deeper means a
   * cycle or a child pointer into foreign memory. */
  if (depth > MAXDEPTH + MAXDEPTH / 2 + 1) {
    lost("tree deeper than built: corrupted child pointer", p, 0);
    return;
  }
  const uint64_t *pw = p;
  if ((pw[0] & TAG_MASK) == MINI_TAG) {
    /* Mini objects do not record their size: check what the smallest
     * could hold, and sgc_size bounds. */
    if (obj_check(p, 16) != 2)
      lost("mini object: checksum mismatch", p, pw[0] & ~TAG_MASK);
    (*count)++;
    return;
  }
  node *n = p;
  if (obj_check(p, 0) != 1) {
    lost("checksum or magic mismatch on visit", p, pw[1]);
    return;
  }
  (*count)++;
  if (must_be_alive && !__atomic_load_n(&n->alive, __ATOMIC_ACQUIRE))
    lost("linked object has alive=0: freed while reachable and its memory reused by an object dropped elsewhere", n, n->id);
  if (n->slot && __atomic_load_n(&n->alive, __ATOMIC_ACQUIRE) &&
      __atomic_load_n(n->slot, __ATOMIC_ACQUIRE) != n)
    lost("weak slot cleared while the object is reachable", n, n->id);
  if (w && (rnd(&w->rng) % 16) == 0) {
    size_t size = info_size(n->info);
    if (sgc_base((char *)n + size - 1) != n ||
        sgc_base((char *)n + size / 2) != n || sgc_size(n) < size)
      lost("sgc_base/sgc_size disagree on a live object", n, n->id);
  }
  for (uint32_t i = 0; i < info_nchild(n->info); i++)
    verify(w, n->child[i], depth + 1, must_be_alive, count);
}

static void pend_push(wslot *w, void **slot);

/* Clear "alive" in a subtree about to be unlinked.  With push_weak, the
 * slots of weak-only objects go to the pending list (objects with a
 * finalizer free their slot in the finalizer). */
static void unmark(wslot *w, void *p, bool push_weak) {
  if (p == NULL || (((uint64_t *)p)[0] & TAG_MASK) == MINI_TAG)
    return;
  node *n = p;
  if (n->magic != NODE_MAGIC)
    return;
  __atomic_store_n(&n->alive, 0, __ATOMIC_RELEASE);
  for (uint32_t i = 0; i < info_nchild(n->info); i++)
    unmark(w, n->child[i], push_weak);
  if (push_weak && n->slot && !(info_flags(n->info) & F_FIN))
    pend_push(w, n->slot);
}

/* sgc_free a subtree that was unmarked (without pushing weak slots) and
 * unlinked, owned exclusively: unregister and free its weak slots first
 * (sgc_free cancels a finalizer, not a weak registration). */
static void free_tree(wslot *w, void *p) {
  if (p == NULL)
    return;
  if ((((uint64_t *)p)[0] & TAG_MASK) != MINI_TAG) {
    node *n = p;
    for (uint32_t i = 0; i < info_nchild(n->info); i++)
      free_tree(w, n->child[i]);
    if (info_flags(n->info) & F_FIN)
      w->fin_cancelled++;
    if (n->slot) {
      if (sgc_unregister_weak(n->slot) != 0)
        lost("sgc_unregister_weak: slot of a live object not registered", n,
             n->id);
      free(n->slot);
    }
  }
  sgc_free(p);
  w->freed++;
}

static void pend_drop(wslot *w, int i, bool cleared) {
  void **slot = w->pend[i].slot;
  int r = sgc_unregister_weak(slot);
  if (!cleared && r != 0)
    lost("sgc_unregister_weak: an uncleared slot was not registered", slot, 0);
  free(slot);
  if (cleared)
    w->weak_cleared++;
  else
    w->weak_abandoned++;
  w->pend[i] = w->pend[--w->npend];
}

static void pend_poll(wslot *w) {
  for (int i = w->npend - 1; i >= 0; i--)
    if (__atomic_load_n(w->pend[i].slot, __ATOMIC_ACQUIRE) == NULL)
      pend_drop(w, i, true);
}

static void pend_push(wslot *w, void **slot) {
  if (w->npend == PENDING_CAP) {
    pend_poll(w);
    /* Still full: objects kept by stale stack words; give up on half. */
    while (w->npend > PENDING_CAP / 2)
      pend_drop(w, 0, false);
  }
  w->pend[w->npend++].slot = slot;
}

/* Unlink what *where holds (unmarking it first) and maybe free it. */
static void replace(wslot *w, void **where, void *with, bool free_old) {
  void *old = *where;
  unmark(w, old, !free_old);
  __atomic_store_n(where, with, __ATOMIC_RELEASE);
  if (free_old)
    free_tree(w, old);
}

/* --------------------------------------------------------------- workers */

static void *helper(void *arg) {
  /* arg: a fresh tree whose only reference was the thread argument. */
  t_who = "helper thread verifying its argument";
  uint64_t count = 0;
  verify(NULL, arg, 0, true, &count);
  __atomic_add_fetch(&g_helper_verified, count, __ATOMIC_RELAXED);
  unmark(NULL, arg, false);
  /* Allocate a little on this thread too. */
  for (int i = 0; i < 64 && !no_helper_alloc; i++) {
    void *p = sgc_alloc(16 + (size_t)i * 40);
    CHECK(p != NULL);
  }
  return NULL;
}

static void op_replace_root(wslot *w) {
  int k = rnd(&w->rng) % NROOTS;
  int budget = 1 + rnd(&w->rng) % 64;
  void *t = build(w, 0, &budget, true);
  bool free_old = !no_free && rnd(&w->rng) % 8 == 0;
  replace(w, &w->roots[k], t, free_old);
}

static void op_modify(wslot *w) {
  int k = rnd(&w->rng) % NROOTS;
  void *p = w->roots[k];
  node *parent = NULL;
  for (int d = 0; p && d < MAXDEPTH; d++) {
    if ((((uint64_t *)p)[0] & TAG_MASK) == MINI_TAG)
      break;
    node *n = p;
    if (info_nchild(n->info) == 0)
      break;
    parent = n;
    if (rnd(&w->rng) % 3 == 0)
      break;
    p = n->child[rnd(&w->rng) % info_nchild(n->info)];
  }
  if (parent == NULL)
    return;
  uint32_t c = rnd(&w->rng) % info_nchild(parent->info);
  void *t = NULL;
  if (rnd(&w->rng) % 4) {
    int budget = 1 + rnd(&w->rng) % 16;
    t = build(w, MAXDEPTH / 2, &budget, true);
  }
  replace(w, &parent->child[c], t, !no_free && rnd(&w->rng) % 6 == 0);
}

static void op_verify_own(wslot *w) {
  void *p = w->roots[rnd(&w->rng) % NROOTS];
  verify(w, p, 0, true, &w->verified);
}

/* The wait for a shared tree's lock is a blocking region (see
 * tests/gctest.h); the critical section is not. */
static void lock_shared(int k) {
  sgc_enter_blocking();
  pthread_mutex_lock(&shared_lock[k]);
  sgc_exit_blocking();
}

static void op_publish(wslot *w) {
  int k = rnd(&w->rng) % NSHARED;
  int budget = 1 + rnd(&w->rng) % 48;
  void *t = build(w, 0, &budget, true);
  lock_shared(k);
  void *old = shared[k];
  unmark(w, old, true);
  shared[k] = t;
  pthread_mutex_unlock(&shared_lock[k]);
  w->published++;
}

static void op_read_shared(wslot *w) {
  t_who = "worker reading a shared tree";
  int k = rnd(&w->rng) % NSHARED;
  lock_shared(k);
  void *t = shared[k];
  pthread_mutex_unlock(&shared_lock[k]);
  /* The tree may be dropped meanwhile (alive cleared): it stays reachable
   * through t, so its checksums must hold. */
  verify(w, t, 0, false, &w->verified);
  w->shared_reads++;
  t_who = "worker";
}

static void op_noise(wslot *w) {
  /* Garbage: never linked, "alive" 0 from the start; some finalizable. */
  int n = 1 + rnd(&w->rng) % 32;
  for (int i = 0; i < n; i++) {
    size_t size = 48 + rnd(&w->rng) % 2048;
    node *p = new_node(w, size, 0, rnd(&w->rng) & 1, false, false);
    (void)p;
  }
}

static void op_helper(wslot *w) {
  int budget = 1 + rnd(&w->rng) % 32;
  void *t = build(w, 0, &budget, false);
  pthread_t tid;
  int r = sgc_pthread_create(&tid, NULL, helper, t);
  CHECKF(r == 0, "sgc_pthread_create: %d", r);
  t = NULL;
  __atomic_add_fetch(&g_threads_started, 1, __ATOMIC_RELAXED);
  sgc_enter_blocking();
  pthread_join(tid, NULL);
  sgc_exit_blocking();
  w->helpers++;
}

static void *worker(void *arg) {
  wslot *w = arg;
  t_who = "worker";
  double end = now() + w->lifetime;
  while (!__atomic_load_n(&g_stop, __ATOMIC_ACQUIRE) && now() < end) {
    for (int it = 0; it < 64; it++) {
      uint32_t r = rnd(&w->rng) % 10000;
      if (r < 3000)
        op_replace_root(w);
      else if (r < 5000) {
        if (!no_modify)
          op_modify(w);
      } else if (r < 7500)
        op_verify_own(w);
      else if (r < 7900) {
        if (!no_shared)
          op_publish(w);
      } else if (r < 8700) {
        if (!no_shared)
          op_read_shared(w);
      } else if (r < 9500) {
        if (!no_noise)
          op_noise(w);
      } else if (r < 9750) {
        if (!no_blocking) {
          sgc_enter_blocking();
          usleep(100 + rnd(&w->rng) % 1900);
          sgc_exit_blocking();
          w->blocking++;
        }
      } else if (r < 9752) {
        if (!no_collect) {
          sgc_collect();
          w->collects++;
        }
      } else if (r < 9762) {
        if (!no_helper)
          op_helper(w);
      } else {
        pend_poll(w);
      }
    }
  }
  /* Verify everything this slot owns before handing it on. */
  for (int k = 0; k < NROOTS; k++)
    verify(w, w->roots[k], 0, true, &w->verified);
  __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void start_worker(int t) {
  wslot *w = &W[t];
  w->gen++;
  w->done = 0;
  w->rng = hmix(opt_seed, ((uint64_t)t << 32) | w->gen) | 1;
  w->lifetime = 0.5 + (double)(rnd(&w->rng) % 3500) / 1000.0;
  int r = sgc_pthread_create(&w->tid, NULL, worker, w);
  CHECKF(r == 0, "sgc_pthread_create: %d", r);
  w->running = 1;
  __atomic_add_fetch(&g_threads_started, 1, __ATOMIC_RELAXED);
}

/* --------------------------------------------------------------- sampler */

typedef struct sample {
  double t;
  double rss_mb, heap_mb, arena_mb;
  uint64_t num_gc;
} sample;
static sample *samples;
static int nsamples, maxsamples;

static double rss_mb(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f)
    return 0;
  unsigned long size = 0, res = 0;
  if (fscanf(f, "%lu %lu", &size, &res) != 2)
    res = 0;
  fclose(f);
  return (double)res * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static void *sampler(void *arg) {
  (void)arg;
  sgc_stats *st = malloc(sizeof *st);
  CHECK(st != NULL);
  while (!__atomic_load_n(&g_stop, __ATOMIC_ACQUIRE)) {
    if (nsamples < maxsamples) {
      sgc_read_stats(st);
      samples[nsamples] = (sample){now(), rss_mb(),
                                   st->heap_span_bytes / (1024.0 * 1024.0),
                                   st->arena_committed_bytes / 1048576.0,
                                   st->num_gc};
      __atomic_store_n(&nsamples, nsamples + 1, __ATOMIC_RELEASE);
    }
    for (int i = 0; i < 10 && !__atomic_load_n(&g_stop, __ATOMIC_ACQUIRE);
         i++)
      usleep(50000);
  }
  free(st);
  return NULL;
}

/* A plain thread that never touches the heap: if the run overstays
 * (3x its length + 60 s), the process is deadlocked; say so and abort. */
static void *watchdog(void *arg) {
  (void)arg;
  double limit = run_seconds * 3 + 60;
  while (__atomic_load_n(&g_stop, __ATOMIC_ACQUIRE) != 2) {
    if (now() > limit) {
      fprintf(stderr, "stress: HANG: still running after %.0f s (run %.0f s):"
              " probable deadlock in the collector; aborting\n", now(),
              run_seconds);
      abort();
    }
    usleep(200000);
  }
  return NULL;
}

/* Least-squares slope (units per minute) of y over samples with t >= from. */
static double slope(int which, double from, double *mean, int *n) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  int k = 0;
  for (int i = 0; i < nsamples; i++) {
    if (samples[i].t < from)
      continue;
    double x = samples[i].t / 60.0;
    double y = which == 2   ? samples[i].arena_mb
               : which == 1 ? samples[i].heap_mb
                            : samples[i].rss_mb;
    sx += x, sy += y, sxx += x * x, sxy += x * y, k++;
  }
  *n = k;
  *mean = k ? sy / k : 0;
  if (k < 2)
    return 0;
  double d = k * sxx - sx * sx;
  return d > 0 ? (k * sxy - sx * sy) / d : 0;
}

/* ------------------------------------------------------------------ main */

static void usage(void) {
  fprintf(stderr, "usage: stress [--seconds S] [--threads N] [--seed X] "
                  "[--soak] [--arena-bound R] [--no-slope]\n");
  exit(2);
}

int main(int argc, char **argv) {
  opt_seed = (uint64_t)time(NULL);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
      opt_seconds = atof(argv[++i]);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
      opt_threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
      opt_seed = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--soak"))
      opt_soak = true;
    else if (!strcmp(argv[i], "--arena-bound") && i + 1 < argc)
      opt_arena_bound = atof(argv[++i]);
    else if (!strcmp(argv[i], "--no-slope"))
      opt_slope = false;
    else
      usage();
  }
  if (opt_threads < 1 || opt_threads > MAXT || opt_seconds <= 0)
    usage();
  const char *dis = getenv("STRESS_DISABLE");
  if (dis) {
    no_free = strstr(dis, "free") != NULL;
    no_helper = strstr(dis, "helper") != NULL;
    no_blocking = strstr(dis, "blocking") != NULL;
    no_collect = strstr(dis, "collect") != NULL;
    no_shared = strstr(dis, "shared") != NULL;
    no_noise = strstr(dis, "noise") != NULL;
    no_fin = strstr(dis, "fin") != NULL;
    no_weak = strstr(dis, "weak") != NULL;
    no_modify = strstr(dis, "modify") != NULL;
    no_helper_alloc = strstr(dis, "halloc") != NULL;
    printf("stress: STRESS_DISABLE=%s (diagnosis run)\n", dis);
  }
  run_seconds = opt_soak ? opt_seconds : opt_seconds * test_scale();
  if (run_seconds < 2)
    run_seconds = 2;
  printf("stress: %.1f s, %d threads, seed %#llx%s\n", run_seconds,
         opt_threads, (unsigned long long)opt_seed, opt_soak ? ", soak" : "");
  fflush(stdout);

  clock_gettime(CLOCK_MONOTONIC, &t0);
  sgc_init();
  for (int k = 0; k < NSHARED; k++)
    pthread_mutex_init(&shared_lock[k], NULL);
  for (int t = 0; t < opt_threads; t++) {
    W[t].pend = malloc(PENDING_CAP * sizeof(pending));
    CHECK(W[t].pend != NULL);
  }
  maxsamples = (int)(run_seconds * 2) + 64;
  samples = calloc((size_t)maxsamples, sizeof *samples);
  CHECK(samples != NULL);
  pthread_t samp, wd;
  CHECK(pthread_create(&samp, NULL, sampler, NULL) == 0);
  CHECK(pthread_create(&wd, NULL, watchdog, NULL) == 0);

  for (int t = 0; t < opt_threads; t++)
    start_worker(t);
  while (now() < run_seconds) {
    sgc_enter_blocking();
    usleep(20000);
    sgc_exit_blocking();
    for (int t = 0; t < opt_threads; t++) {
      if (W[t].running && __atomic_load_n(&W[t].done, __ATOMIC_ACQUIRE)) {
        sgc_enter_blocking();
        pthread_join(W[t].tid, NULL);
        sgc_exit_blocking();
        W[t].running = 0;
        if (now() < run_seconds)
          start_worker(t);
      }
    }
  }
  __atomic_store_n(&g_stop, 1, __ATOMIC_RELEASE);
  for (int t = 0; t < opt_threads; t++)
    if (W[t].running) {
      sgc_enter_blocking();
      pthread_join(W[t].tid, NULL);
      sgc_exit_blocking();
      W[t].running = 0;
    }
  pthread_join(samp, NULL);
  double elapsed = now();

  /* Final check of the live graph, then drop it all. */
  uint64_t verified = 0, final_verified = 0;
  for (int t = 0; t < opt_threads; t++)
    for (int k = 0; k < NROOTS; k++)
      verify(&W[t], W[t].roots[k], 0, true, &final_verified);
  for (int k = 0; k < NSHARED; k++)
    verify(&W[0], shared[k], 0, false, &final_verified);
  for (int t = 0; t < opt_threads; t++)
    for (int k = 0; k < NROOTS; k++)
      replace(&W[t], &W[t].roots[k], NULL, false);
  for (int k = 0; k < NSHARED; k++)
    replace(&W[0], &shared[k], NULL, false);
  for (int i = 0; i < 3; i++)
    sgc_collect();
  sgc_wait_finalizers();
  sgc_collect();
  sgc_wait_finalizers();

  uint64_t built = 0, freed = 0, fin_set = 0, fin_cancelled = 0, weak_set = 0,
           weak_cleared = 0, weak_abandoned = 0, blocking = 0, collects = 0,
           helpers = 0, published = 0, shared_reads = 0, weak_left = 0;
  for (int t = 0; t < opt_threads; t++) {
    wslot *w = &W[t];
    pend_poll(w);
    weak_left += (uint64_t)w->npend;
    while (w->npend > 0)
      pend_drop(w, w->npend - 1, false);
    verified += w->verified;
    built += w->built, freed += w->freed, fin_set += w->fin_set;
    fin_cancelled += w->fin_cancelled, weak_set += w->weak_set;
    weak_cleared += w->weak_cleared, weak_abandoned += w->weak_abandoned;
    blocking += w->blocking, collects += w->collects, helpers += w->helpers;
    published += w->published, shared_reads += w->shared_reads;
  }
  verified += final_verified + g_helper_verified;

  sgc_stats st;
  sgc_read_stats(&st);
  __atomic_store_n(&g_stop, 2, __ATOMIC_RELEASE); /* releases the watchdog */
  pthread_join(wd, NULL);
  uint64_t fin_run = __atomic_load_n(&g_fin_run, __ATOMIC_SEQ_CST);
  uint64_t nlost = __atomic_load_n(&g_lost, __ATOMIC_SEQ_CST);

  double peak = 0;
  for (int i = 0; i < nsamples; i++)
    if (samples[i].rss_mb > peak)
      peak = samples[i].rss_mb;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double mean_rss, mean_heap;
  int n_rss, n_heap;
  double from = elapsed * WARMUP_FRACTION;
  double s_rss = slope(0, from, &mean_rss, &n_rss);
  double s_heap = slope(1, from, &mean_heap, &n_heap);
  double mean_arena;
  int n_arena;
  double s_arena = slope(2, from, &mean_arena, &n_arena);
  double arena_end = st.arena_committed_bytes / 1048576.0;
  double peak_spans = st.peak_span_bytes / 1048576.0;
  double limit = mean_rss * SOAK_SLOPE_PCT / 100.0;
  if (limit < SOAK_FLOOR_MB)
    limit = SOAK_FLOOR_MB;

  printf("elapsed: %.1f s; threads started: %llu (helpers %llu)\n", elapsed,
         (unsigned long long)g_threads_started, (unsigned long long)helpers);
  printf("cycles (num_gc): %llu (forced %llu); max pause %.2f ms\n",
         (unsigned long long)st.num_gc, (unsigned long long)collects,
         st.max_pause_ns / 1e6);
  printf("objects built: %llu, sgc_free'd: %llu; blocking regions: %llu; "
         "published %llu, shared reads %llu\n",
         (unsigned long long)built, (unsigned long long)freed,
         (unsigned long long)blocking, (unsigned long long)published,
         (unsigned long long)shared_reads);
  printf("objects verified: %llu\n", (unsigned long long)verified);
  printf("objects lost: %llu\n", (unsigned long long)nlost);
  printf("finalizers: registered %llu, cancelled by sgc_free %llu, run %llu "
         "(library: queued %llu, run %llu)\n",
         (unsigned long long)fin_set, (unsigned long long)fin_cancelled,
         (unsigned long long)fin_run,
         (unsigned long long)st.finalizers_queued,
         (unsigned long long)st.finalizers_run);
  printf("weak slots: registered %llu, seen cleared after drop %llu, "
         "abandoned while set %llu (kept by stale words or not yet collected: "
         "%llu at the end)\n",
         (unsigned long long)weak_set, (unsigned long long)weak_cleared,
         (unsigned long long)weak_abandoned, (unsigned long long)weak_left);
  printf("peak RSS: %.1f MB sampled (%d samples), %.1f MB maxrss\n", peak,
         nsamples, ru.ru_maxrss / 1024.0);
  printf("RSS slope after warm-up (%.0f%%, %d samples): %+.2f MB/min "
         "(mean %.1f MB; %+.2f%% of mean per minute; soak limit %.2f MB/min)\n",
         WARMUP_FRACTION * 100, n_rss, s_rss, mean_rss,
         mean_rss > 0 ? 100.0 * s_rss / mean_rss : 0.0, limit);
  printf("heap_span_bytes slope after warm-up: %+.2f MB/min (mean %.1f MB)\n",
         s_heap, mean_heap);
  printf("committed arena slope after warm-up: %+.2f MB/min (mean %.1f MB); "
         "at the end %.1f MB in %llu extensions, %.2fx the peak of pages in "
         "use (%.1f MB); released by the scavenger: %.1f MB ever\n",
         s_arena, mean_arena, arena_end,
         (unsigned long long)st.arena_grows,
         peak_spans > 0 ? arena_end / peak_spans : 0.0, peak_spans,
         st.released_total_bytes / 1048576.0);

  int fail = 0;
  if (nlost != 0) {
    printf("FAIL: %llu objects lost\n", (unsigned long long)nlost);
    fail = 1;
  }
  if (fin_run > fin_set - fin_cancelled) {
    printf("FAIL: more finalizers ran than were registered and not "
           "cancelled\n");
    fail = 1;
  }
  if (st.finalizers_run > st.finalizers_queued) {
    printf("FAIL: library ran more finalizers than it queued\n");
    fail = 1;
  }
  if (fin_set - fin_cancelled > 1000 && fin_run == 0) {
    printf("FAIL: no finalizer ever ran\n");
    fail = 1;
  }
  if (opt_soak) {
    if (n_rss < 20) {
      printf("FAIL: soak needs at least 20 samples after warm-up (run "
             "longer)\n");
      fail = 1;
    } else if (s_rss > limit && opt_slope) {
      printf("FAIL: RSS grows after warm-up: %+.2f MB/min > %.2f MB/min\n",
             s_rss, limit);
      fail = 1;
    }
  }
  if (opt_arena_bound > 0 && arena_end > opt_arena_bound * peak_spans + 4) {
    printf("FAIL: committed arena %.1f MB > %.2f x peak pages in use %.1f MB "
           "+ 4 MB\n", arena_end, opt_arena_bound, peak_spans);
    fail = 1;
  }
  printf("%s\n", fail ? "FAIL" : "PASS");
  return fail;
}
