/*
 * sizeclass.c — the size classes, computed once at initialisation.
 *
 * Sizes go up from 16 bytes in steps of 'align', and align grows at each
 * power of two (16 bytes up to 128, then size/8, and at most 256 from
 * 2048 on).  Each class's span is the smallest whole number of pages whose
 * tail (the bytes no object fits in) is at most 1/8 of the span.  Two
 * neighbouring sizes that would get the same span size and the same number
 * of objects per span become one class (the larger size), as in Go 1.4 --
 * but only while the merged class still rounds every request it serves up
 * by at most max(15 bytes, 1/8 of the class size).  Go 1.4's unconditional
 * merge let some requests lose almost 19% (1665 bytes -> 2048).
 *
 * Owns read-only tables, written only by sizeclass_init() under the
 * initialisation lock, before any allocation.
 */
#include "spangc-int.h"

uint32_t class_to_size[NUM_CLASSES];
uint32_t class_to_npages[NUM_CLASSES];
uint32_t class_to_divmul[NUM_CLASSES];
uint8_t size_to_class16[1024 / 16 + 1];
uint8_t size_to_class128[(MAX_SMALL_SIZE - 1024) / 128 + 1];

void sizeclass_init(void) {
  int n = 1; /* class 0 stands for large objects */
  uint32_t align = OBJ_ALIGN;
  for (uint32_t size = OBJ_ALIGN; size <= MAX_SMALL_SIZE; size += align) {
    if ((size & (size - 1)) == 0) {
      if (size >= 2048)
        align = 256;
      else if (size >= 128)
        align = size / 8;
    }
    uint32_t span = PAGE_SIZE;
    while (span % size > span / 8)
      span += PAGE_SIZE;
    uint32_t npages = span / PAGE_SIZE;
    uint32_t below = n > 2 ? class_to_size[n - 2] : 0;
    uint32_t worst = size - below - 1; /* waste of the smallest request */
    if (n > 1 && npages == class_to_npages[n - 1] &&
        span / size == span / class_to_size[n - 1] &&
        worst <= (size / 8 > 15 ? size / 8 : 15)) {
      class_to_size[n - 1] = size;
      continue;
    }
    if (n >= NUM_CLASSES)
      sgc_fatal("size classes: more than %d classes", NUM_CLASSES);
    class_to_size[n] = size;
    class_to_npages[n] = npages;
    n++;
  }
  if (n != NUM_CLASSES)
    sgc_fatal("size classes: computed %d, header says %d", n, NUM_CLASSES);

  for (int c = 1; c < NUM_CLASSES; c++) {
    uint32_t size = class_to_size[c];
    uint32_t span = class_to_npages[c] * (uint32_t)PAGE_SIZE;
    if (span / size > MAX_OBJS_PER_SPAN)
      sgc_fatal("size class %d: %u objects per span", c, span / size);
    /* index = (off * divmul) >> 32 must be exact for every byte of every
     * object: check the first and last byte of each (the map is monotone). */
    uint32_t divmul = (uint32_t)((((uint64_t)1 << 32) + size - 1) / size);
    for (uint32_t i = 0; i < span / size; i++) {
      uint64_t lo = (uint64_t)i * size, hi = lo + size - 1;
      if (((lo * divmul) >> 32) != i || ((hi * divmul) >> 32) != i)
        sgc_fatal("size class %d: inexact division by %u", c, size);
    }
    class_to_divmul[c] = divmul;
  }

  int c = 1;
  for (uint32_t i = 0; i <= 1024 / 16; i++) {
    while (class_to_size[c] < i * 16)
      c++;
    size_to_class16[i] = (uint8_t)c;
  }
  for (uint32_t i = 0; i <= (MAX_SMALL_SIZE - 1024) / 128; i++) {
    uint32_t size = 1024 + i * 128;
    while (class_to_size[c] < size)
      c++;
    size_to_class128[i] = (uint8_t)c;
  }
}
