// labels: malloc
/* sgc_realloc that shrinks an object in place clears the bytes past the
 * new size in a scanned object: a stale pointer left there would keep
 * what it points to alive (bdwgc clears them too).  A pointer-free object
 * keeps its bytes (nothing there is scanned). */
#include <stdint.h>

#include "check.h"
#include "spangc.h"

int main(void) {
  sgc_init();
  for (size_t size = 64; size <= 4096; size *= 2) {
    void **p = sgc_alloc(size);
    CHECK(p != NULL);
    size_t words = sgc_size(p) / sizeof(void *);
    for (size_t i = 0; i < words; i++)
      p[i] = sgc_alloc(16);
    size_t n = sgc_size(p) * 3 / 4;
    void **q = sgc_realloc(p, n);
    CHECKF(q == p, "a shrink to %zu of %zu bytes moved the object", n,
           sgc_size(p));
    for (size_t i = 0; i < n / sizeof(void *); i++)
      CHECK(q[i] != NULL);
    for (size_t i = (n + sizeof(void *) - 1) / sizeof(void *); i < words; i++)
      CHECKF(q[i] == NULL, "size %zu: word %zu past the new size %zu kept "
             "a pointer", size, i, n);
  }
  unsigned char *b = sgc_alloc_noscan(256);
  memset(b, 0xab, sgc_size(b));
  unsigned char *c = sgc_realloc(b, 200);
  CHECK(c == b);
  for (size_t i = 0; i < 200; i++)
    CHECK(c[i] == 0xab);
  return 0;
}
