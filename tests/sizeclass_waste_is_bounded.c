// labels: heap
/* The size-class tables: classes grow strictly in multiples of 16 from 16
 * to 32768; a span's tail wastes at most 1/8 of it; rounding a request up
 * to its class wastes at most max(15, size/8) bytes; size_to_class picks
 * the smallest class that fits; the reciprocal division finds the exact
 * object index for every byte of every span; a span holds at most 512
 * objects. */
#include "check.h"
#include "spangc-int.h"

int main(void) {
  sgc_init();
  CHECK(class_to_size[0] == 0);
  CHECKF(class_to_size[1] == 16, "smallest class %u", class_to_size[1]);
  CHECKF(class_to_size[NUM_CLASSES - 1] == MAX_SMALL_SIZE, "largest %u",
         class_to_size[NUM_CLASSES - 1]);

  for (int c = 1; c < NUM_CLASSES; c++) {
    uint32_t size = class_to_size[c];
    uint32_t npages = class_to_npages[c];
    CHECKF(size % 16 == 0, "class %d size %u", c, size);
    if (c > 1)
      CHECKF(size > class_to_size[c - 1], "class %d size %u after %u", c, size,
             class_to_size[c - 1]);
    CHECKF(npages >= 1, "class %d", c);
    uint64_t span = (uint64_t)npages * PAGE_SIZE;
    CHECKF(span >= size, "class %d size %u span %llu", c, size,
           (unsigned long long)span);
    CHECKF(span % size <= span / 8, "class %d size %u: tail %llu of %llu",
           c, size, (unsigned long long)(span % size),
           (unsigned long long)span);
    uint64_t nelems = span / size;
    CHECKF(nelems <= MAX_OBJS_PER_SPAN, "class %d: %llu objects per span", c,
           (unsigned long long)nelems);

    /* Every byte offset of the span, the tail included. */
    uint64_t divmul = class_to_divmul[c];
    for (uint64_t off = 0; off < span; off++) {
      uint64_t idx = (off * divmul) >> 32;
      if (idx != off / size)
        CHECKF(0, "class %d size %u: offset %llu gives index %llu, not %llu",
               c, size, (unsigned long long)off, (unsigned long long)idx,
               (unsigned long long)(off / size));
    }
    /* The same through the span helper, on a fake span of this class. */
    mspan s;
    memset(&s, 0, sizeof s);
    s.base = 1u << 20;
    s.nelems = (uint32_t)nelems;
    s.divmul = (uint32_t)divmul;
    for (uint64_t i = 0; i < nelems; i++) {
      CHECK(mspan_obj_index(&s, s.base + i * size) == i);
      CHECK(mspan_obj_index(&s, s.base + i * size + size - 1) == i);
    }
  }

  for (size_t n = 1; n <= MAX_SMALL_SIZE; n++) {
    int c = size_to_class(n);
    CHECKF(c >= 1 && c < NUM_CLASSES, "size %zu: class %d", n, c);
    uint32_t size = class_to_size[c];
    CHECKF(size >= n, "size %zu in class %d of %u", n, c, size);
    CHECKF(c == 1 || class_to_size[c - 1] < n,
           "size %zu in class %d (%u) but class %d (%u) fits", n, c, size,
           c - 1, class_to_size[c - 1]);
    uint32_t bound = size / 8 > 15 ? size / 8 : 15;
    CHECKF(size - n <= bound, "size %zu rounds up to %u: %zu bytes wasted",
           n, size, size - n);
  }
  CHECK(size_to_class(0) == 1);

  /* The classes the allocator reports agree with the tables. */
  sgc_stats st;
  sgc_read_stats(&st);
  for (int c = 1; c < NUM_CLASSES; c++) {
    CHECK(st.by_class[c].size == class_to_size[c]);
    CHECK(st.by_class[c].span_pages == class_to_npages[c]);
  }
  printf("%d size classes, waste bounded\n", NUM_CLASSES - 1);
  return 0;
}
