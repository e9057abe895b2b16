// labels: heap
/* Every size from 1 byte to 64 KiB, and some MiB sizes, in both kinds:
 * 16-byte aligned, sgc_size covers the request, scanned objects come back
 * zeroed even when their memory was used before, and the heap verifier is
 * happy afterwards. */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "spangc-int.h"

static void check_object(void *p, size_t n, int noscan) {
  CHECKF(p != NULL, "size %zu", n);
  CHECKF(((uintptr_t)p & 15) == 0, "size %zu: %p not 16-aligned", n, p);
  CHECKF(sgc_size(p) >= n, "size %zu: usable %zu", n, sgc_size(p));
  CHECK(sgc_base(p) == p);
  CHECK(sgc_base((char *)p + n - 1) == p);
  if (!noscan) {
    const uint64_t *w = p;
    size_t words = sgc_size(p) / 8;
    for (size_t i = 0; i < words; i++)
      CHECKF(w[i] == 0, "size %zu: word %zu is %llx", n, i,
             (unsigned long long)w[i]);
  }
  memset(p, 0xa5, noscan ? n : sgc_size(p));
}

int main(void) {
  sgc_init();
  sgc_disable(); /* this test frees by itself */
  for (int round = 0; round < 2; round++) /* round 1 reuses freed memory */
    for (int noscan = 0; noscan < 2; noscan++)
      for (size_t n = 1; n <= 64 << 10; n++) {
        void *p = noscan ? sgc_alloc_noscan(n) : sgc_alloc(n);
        check_object(p, n, noscan);
        sgc_free(p);
      }
  size_t big[] = {1 << 20, (1 << 20) + 1, 3 << 20, 17 << 20, 100 << 20};
  for (int round = 0; round < 2; round++)
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
      void *p = sgc_alloc(big[i]);
      check_object(p, big[i], 0);
      sgc_free(p);
    }
  void *z = sgc_alloc(0);
  CHECK(z != NULL && sgc_size(z) >= 1);
  void *z2 = sgc_alloc(0);
  CHECK(z2 != NULL && z2 != z);
  sgc_heap_verify();
  printf("every size aligned, zeroed and sized\n");
  return 0;
}
