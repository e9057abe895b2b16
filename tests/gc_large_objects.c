// labels: gc
/* Large objects (64 KiB .. 64 MiB) are kept while referenced, with their
 * contents intact, and collected when dropped: after dropping them all the
 * heap's in-use spans are back to a small size. */
#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

static const size_t sizes[] = {64 << 10, 100000, 256 << 10, 1 << 20,
                               4 << 20,  16 << 20, 64 << 20};
#define NSIZES (sizeof sizes / sizeof sizes[0])
#define STRIDE 4096

/* Kept objects: COPIES of each size up to 4 MiB, 2 of 16 MiB, 1 of 64 MiB
 * (so that a stale word pinning one of them after the drop is tolerated). */
#define COPIES 8
#define NKEEP (5 * COPIES + 2 + 1)
uint64_t *volatile g_keep[NKEEP];
static size_t keep_size(size_t k) {
  return k < 5 * COPIES ? sizes[k % 5] : k < 5 * COPIES + 2 ? sizes[5]
                                                             : sizes[6];
}
static long dropped_finalized; /* atomic */
static long finalized; /* atomic */

static uint64_t word_at(size_t sz, long tag, size_t w) {
  return 0xCAFE000000000000ull ^ ((uint64_t)sz << 8) ^ ((uint64_t)tag << 40) ^
         (uint64_t)w;
}

/* Pattern at every STRIDE bytes and in the last word. */
static void fill(uint64_t *p, size_t sz, long tag) {
  size_t nw = sz / 8;
  for (size_t w = 0; w < nw; w += STRIDE / 8)
    p[w] = word_at(sz, tag, w);
  p[nw - 1] = word_at(sz, tag, nw - 1);
}

static int intact(const uint64_t *p, size_t sz, long tag) {
  size_t nw = sz / 8;
  for (size_t w = 0; w < nw; w += STRIDE / 8)
    if (p[w] != word_at(sz, tag, w))
      return 0;
  return p[nw - 1] == word_at(sz, tag, nw - 1);
}

static void on_finalize(void *obj, void *arg) {
  (void)obj;
  (void)arg;
  ATOMIC_ADD(&finalized, 1);
}

__attribute__((noinline)) static void make_kept(void) {
  for (size_t k = 0; k < NKEEP; k++) {
    g_keep[k] = sgc_alloc(keep_size(k));
    CHECK(g_keep[k] != NULL);
    CHECKF(sgc_size(g_keep[k]) >= keep_size(k), "size %zu", keep_size(k));
    fill(g_keep[k], keep_size(k), 1000 + (long)k);
  }
}

static int dropped_dead[NKEEP]; /* atomic */
static void on_dropped(void *obj, void *arg) {
  (void)obj;
  ATOMIC_STORE(&dropped_dead[(size_t)arg - 1], 1);
  ATOMIC_ADD(&dropped_finalized, 1);
}

/* Dropped large objects, some finalizable to count them. */
__attribute__((noinline)) static long make_garbage(long bytes, long *nfin) {
  long n = 0;
  for (long done = 0; done < bytes; n++) {
    size_t sz = sizes[n % (NSIZES - 1)]; /* up to 16 MiB */
    uint64_t *volatile p = sgc_alloc(sz);
    CHECK(p != NULL);
    fill(p, sz, n);
    if (n % 3 == 0) {
      CHECK(sgc_set_finalizer(p, on_finalize, NULL) == 0);
      (*nfin)++;
    }
    done += (long)sz;
    p = NULL;
  }
  return n;
}

/* Finalizers count the kept objects that die once dropped; the sizes of
 * the ones that do not are summed by the caller from 'alive'. */
__attribute__((noinline)) static void drop_kept(void) {
  for (size_t k = 0; k < NKEEP; k++) {
    CHECK(sgc_set_finalizer(g_keep[k], on_dropped, (void *)(k + 1)) == 0);
    g_keep[k] = NULL;
  }
}

/* Everything that touches the kept objects, in a function of its own so
 * that no register of main is left holding one of them. */
__attribute__((noinline)) static void keep_phase(void) {
  make_kept();
  long nfin = 0;
  long rounds = scaled(8);
  for (long r = 0; r < rounds; r++) {
    make_garbage(200 << 20, &nfin);
    sgc_collect();
    for (size_t k = 0; k < NKEEP; k++)
      CHECKF(intact(g_keep[k], keep_size(k), 1000 + (long)k),
             "round %ld: kept object of %zu bytes corrupted", r, keep_size(k));
  }
  clear_stack();
  settle();
  for (size_t k = 0; k < NKEEP; k++)
    CHECKF(intact(g_keep[k], keep_size(k), 1000 + (long)k),
           "kept object of %zu bytes corrupted", keep_size(k));
  long f = ATOMIC_LOAD(&finalized);
  CHECKF(f >= nfin * 9 / 10, "only %ld of %ld dropped large objects "
         "finalized", f, nfin);

  sgc_stats st;
  sgc_read_stats(&st);
  uint64_t kept_bytes = 0;
  for (size_t k = 0; k < NKEEP; k++)
    kept_bytes += keep_size(k);
  printf("with kept objects: heap spans %.1f MB (kept %.1f MB)\n",
         st.heap_span_bytes / 1048576.0, kept_bytes / 1048576.0);
  CHECKF(st.heap_span_bytes >= kept_bytes, "%llu",
         (unsigned long long)st.heap_span_bytes);
  /* Up to two garbage objects of up to 16 MiB may be pinned by stale
   * words (the ASan build on a loaded machine, 1 run in 40: two 16 MiB
   * objects left; a diagnostic collection then found the main thread's
   * frames holding words such as 0x7f8f00000001, a small int stored over
   * the low half of a slot that held a pointer, and one of the objects
   * straddling 0x7f8f00000000).  A
   * collector that kept dropped large objects would be ~200 MB over. */
  CHECKF(st.heap_span_bytes < kept_bytes + (36u << 20),
         "heap spans %llu bytes while %llu are kept",
         (unsigned long long)st.heap_span_bytes,
         (unsigned long long)kept_bytes);
}

int main(void) {
  sgc_init();
  keep_phase();
  drop_kept();
  clear_stack();
  settle();
  sgc_stats st;
  sgc_read_stats(&st);
  long fin = ATOMIC_LOAD(&dropped_finalized);
  printf("after dropping: %ld of %d kept objects finalized, heap spans "
         "%.1f MB, %llu large objects\n", fin, NKEEP,
         st.heap_span_bytes / 1048576.0,
         (unsigned long long)st.large_objects);
  CHECKF(fin >= NKEEP * 9 / 10, "only %ld of %d dropped large objects "
         "finalized", fin, NKEEP);
  /* Small, but for the few survivors (a stale word may pin them), and
   * one garbage object of up to 16 MiB a stale word may pin too (the
   * concurrent suite run on a loaded machine: one 16 MiB object of
   * make_garbage's left, every kept one finalized; seen at 801a72f as
   * well, below the bound then). */
  uint64_t allow = (16u << 20) + sizes[NSIZES - 2];
  for (size_t k = 0; k < NKEEP; k++)
    if (!ATOMIC_LOAD(&dropped_dead[k]))
      allow += keep_size(k);
  CHECKF(st.heap_span_bytes < allow,
         "heap spans still %llu bytes after dropping every large object "
         "(%ld not finalized)", (unsigned long long)st.heap_span_bytes,
         NKEEP - fin);
  return 0;
}
