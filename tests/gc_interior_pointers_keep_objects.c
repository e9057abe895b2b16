// labels: gc
/* A pointer into the middle of an object, or to its last requested byte,
 * is the only reference the program keeps to it: for small objects of
 * several classes and for large ones, the object survives many collections
 * (its finalizer never runs), sgc_base still finds it, and its contents
 * are intact while the memory around it is reused. */
#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

static const size_t sizes[] = {16,    24,    48,     100,     512,    1024,
                               3000,  8192,  20000,  32768,   40000,  100000,
                               1 << 20};
#define NSIZES (sizeof sizes / sizeof sizes[0])
#define PER 12 /* objects per size and per kind of pointer */

/* Only interior addresses, never a base, are kept here. */
char *volatile g_mid[NSIZES][PER];
char *volatile g_last[NSIZES][PER];
static long finalized; /* atomic */

static unsigned char byte_at(size_t sz, long i, size_t off) {
  return (unsigned char)(0x80 | ((sz * 7 + (size_t)i * 13 + off * 31) & 0x7f));
}

static void on_finalize(void *obj, void *arg) {
  (void)obj;
  (void)arg;
  ATOMIC_ADD(&finalized, 1);
}

static char *make(size_t sz, long i) {
  unsigned char *p = sgc_alloc(sz);
  CHECK(p != NULL);
  for (size_t off = 0; off < sz; off++)
    p[off] = byte_at(sz, i, off);
  CHECK(sgc_set_finalizer(p, on_finalize, NULL) == 0);
  return (char *)p;
}

__attribute__((noinline)) static void make_all(void) {
  for (size_t k = 0; k < NSIZES; k++)
    for (long i = 0; i < PER; i++) {
      g_mid[k][i] = make(sizes[k], i) + sizes[k] / 2;
      g_last[k][i] = make(sizes[k], i + PER) + sizes[k] - 1;
    }
}

static void check_obj(const char *base, size_t sz, long i, const char *what) {
  CHECKF(sgc_base(base + sz / 2) == base, "%s pointer, size %zu: sgc_base "
         "%p, expected %p", what, sz, sgc_base(base + sz / 2), (void *)base);
  const unsigned char *p = (const unsigned char *)base;
  /* Every byte of small objects; a stride for large ones. */
  size_t step = sz > 65536 ? 61 : 1;
  for (size_t off = 0; off < sz; off += step)
    CHECKF(p[off] == byte_at(sz, i, off),
           "%s pointer, size %zu, object %ld: byte %zu is %#x, expected %#x",
           what, sz, i, off, p[off], byte_at(sz, i, off));
  CHECK(p[sz - 1] == byte_at(sz, i, sz - 1));
}

__attribute__((noinline)) static void churn(long bytes) {
  /* Garbage of the same sizes, so freed slots would be reused. */
  for (long done = 0; done < bytes;) {
    for (size_t k = 0; k < NSIZES - 1; k++) {
      char *volatile g = sgc_alloc(sizes[k]);
      CHECK(g != NULL);
      memset(g, 0x5a, sizes[k]);
      done += (long)sizes[k];
    }
  }
}

int main(void) {
  sgc_init();
  make_all();
  clear_stack();
  long rounds = scaled(30);
  for (long r = 0; r < rounds; r++) {
    churn(4 << 20);
    sgc_collect();
    sgc_collect();
    sgc_run_finalizers();
    sgc_wait_finalizers();
    CHECKF(ATOMIC_LOAD(&finalized) == 0,
           "round %ld: %ld objects kept by interior pointers were finalized",
           r, ATOMIC_LOAD(&finalized));
    for (size_t k = 0; k < NSIZES; k++)
      for (long i = 0; i < PER; i++) {
        check_obj(g_mid[k][i] - sizes[k] / 2, sizes[k], i, "middle");
        check_obj(g_last[k][i] - (sizes[k] - 1), sizes[k], i + PER, "last-byte");
      }
  }
  return 0;
}
