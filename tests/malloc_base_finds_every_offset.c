// labels: heap
/* sgc_base maps every byte of a live object, of every size class in both
 * kinds and of large objects, to the object's base; it answers NULL for
 * NULL, stack, static and malloc addresses, for free slots, for the tail
 * of a span and for a freed large object; it never aborts. */
#include <stdint.h>

#include "check.h"
#include "spangc-int.h"

static char a_global[256];
static void *keep[4 * NUM_CLASSES + 16]; /* reachable: a root */

static void check_every_offset(void *p, size_t n) {
  CHECKF(p != NULL, "size %zu", n);
  size_t size = sgc_size(p);
  CHECKF(size >= n, "size %zu: usable %zu", n, size);
  for (size_t k = 0; k < size; k++) {
    void *b = sgc_base((char *)p + k);
    if (b != p)
      CHECKF(0, "object %p of %zu bytes: sgc_base(p+%zu) = %p", p, size, k,
             b);
  }
  /* The byte after the object is not in it. */
  CHECK(sgc_base((char *)p + size) != p);
}

int main(void) {
  sgc_init();
  sgc_disable(); /* objects are held anyway; frees are explicit */
  int nk = 0;

  for (int noscan = 0; noscan < 2; noscan++)
    for (int c = 1; c < NUM_CLASSES; c++) {
      size_t size = class_to_size[c];
      /* Two objects per class: the second has a non-zero index. */
      for (int j = 0; j < 2; j++) {
        void *p = noscan ? sgc_alloc_noscan(size) : sgc_alloc(size);
        keep[nk++] = p;
        CHECKF(sgc_size(p) == size, "class %d: sgc_size %zu, class size %zu",
               c, sgc_size(p), size);
        check_every_offset(p, size);
      }
    }

  size_t large[] = {SGC_MAX_SMALL_SIZE + 1, 40000, 100000, 1 << 20,
                    (3 << 20) + 5};
  for (size_t i = 0; i < sizeof large / sizeof large[0]; i++) {
    void *p = (i & 1) ? sgc_alloc_noscan(large[i]) : sgc_alloc(large[i]);
    keep[nk++] = p;
    check_every_offset(p, large[i]);
  }

  /* Objects still intact: sgc_base never wrote anything. */
  for (int i = 0; i < nk; i++)
    CHECK(sgc_base(keep[i]) == keep[i]);

  /* Not heap addresses. */
  int on_stack = 0;
  char *m = malloc(64);
  CHECK(m != NULL);
  CHECK(sgc_base(NULL) == NULL);
  CHECK(sgc_base(&on_stack) == NULL);
  CHECK(sgc_base(a_global) == NULL);
  CHECK(sgc_base(a_global + 100) == NULL);
  CHECK(sgc_base(m) == NULL);
  CHECK(sgc_base(m + 10) == NULL);
  CHECK(sgc_base((void *)(uintptr_t)1) == NULL);
  CHECK(sgc_base((void *)UINTPTR_MAX) == NULL);
  CHECK(sgc_base(&keep) == NULL);
  free(m);

  /* A free slot: a fresh span of a class nobody used yet has its first
   * slot allocated and the rest free.  The tail of its span (the bytes
   * after the last object) is not in any object. */
  {
    int c = size_to_class(1408); /* 1408-byte class: 11 objects in 2 pages */
    size_t size = class_to_size[c];
    char *p = sgc_alloc(size);
    keep[nk++] = p;
    mspan *s = mheap_lookup((uintptr_t)p);
    CHECK(s != NULL);
    uint32_t idx = mspan_obj_index(s, (uintptr_t)p);
    CHECK(idx + 1 < s->nelems);
    /* A fresh span (this test allocated only two of this class before):
     * every slot after p's is free. */
    uint32_t nfree = 0;
    for (uint32_t i = idx + 1; i < s->nelems; i++) {
      char *q = (char *)s->base + (size_t)i * size;
      if (!mspan_is_allocated(s, i)) {
        nfree++;
        CHECKF(sgc_base(q) == NULL, "free slot %u of class %d: %p", i, c,
               sgc_base(q));
        CHECKF(sgc_base(q + size - 1) == NULL, "free slot %u", i);
      }
    }
    CHECKF(nfree > 0, "no free slot after %u of %u", idx, s->nelems);
    uintptr_t limit = s->base + (uintptr_t)s->nelems * size;
    uintptr_t end = s->base + s->npages * PAGE_SIZE;
    CHECKF(limit < end, "class %d has no tail", c);
    for (uintptr_t a = limit; a < end; a++)
      if (sgc_base((void *)a) != NULL)
        CHECKF(0, "span tail byte %p: sgc_base %p", (void *)a,
               sgc_base((void *)a));
  }

  /* Freed large objects: their span is gone, every byte answers NULL. */
  for (int i = 0; i < 3; i++) {
    char *p = sgc_alloc(200000);
    CHECK(p != NULL);
    size_t size = sgc_size(p);
    sgc_free(p);
    for (size_t k = 0; k < size; k += 61)
      CHECKF(sgc_base(p + k) == NULL, "freed large %p: sgc_base(p+%zu)", p,
             k);
    CHECK(sgc_base(p + size - 1) == NULL);
  }

  /* After a collection, explicitly freed small objects are free slots.
   * Their addresses are kept disguised so the conservative scan does not
   * see them; a stray copy left in a register or a dead stack slot may
   * still keep one or two alive.  noscan objects: the freed list links
   * through word 0, so in scanned objects one stray reference to the list
   * head would keep the whole chain alive. */
  sgc_enable();
  uintptr_t hidden[64];
  for (int i = 0; i < 64; i++)
    hidden[i] = ~(uintptr_t)sgc_alloc_noscan(48);
  for (int i = 0; i < 64; i++)
    sgc_free((void *)~hidden[i]);
  sgc_collect();
  int stillthere = 0;
  for (int i = 0; i < 64; i++) {
    void *b = sgc_base((void *)~hidden[i]);
    CHECKF(b == NULL || b == (void *)~hidden[i], "freed %p: sgc_base %p",
           (void *)~hidden[i], b);
    stillthere += b != NULL;
  }
  CHECKF(stillthere <= 4, "%d of 64 objects freed before a collection are "
         "still live after it", stillthere);
  sgc_disable();

  for (int i = 0; i < nk; i++)
    CHECK(sgc_base((char *)keep[i] + 1) == keep[i]);
  sgc_heap_verify();
  printf("sgc_base right for %d objects\n", nk);
  return 0;
}
