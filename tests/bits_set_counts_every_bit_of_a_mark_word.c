// labels: heap
/* bits_set (spangc-int.h), which counts a span's marks for the sweep,
 * the dense-span rule and the age sample, gives the number of set bits
 * of every word: each single bit, each run of low and high bits, and a
 * million pseudo-random words, against a bit-by-bit count. */
#include <stdint.h>

#include "check.h"
#include "spangc-int.h"

static uint32_t slow_count(uint64_t x) {
  uint32_t n = 0;
  for (int i = 0; i < 64; i++)
    n += (x >> i) & 1;
  return n;
}

int main(void) {
  CHECK(bits_set(0) == 0);
  CHECK(bits_set(~(uint64_t)0) == 64);
  for (int i = 0; i < 64; i++) {
    CHECKF(bits_set((uint64_t)1 << i) == 1, "bit %d", i);
    uint64_t low = i == 0 ? 0 : ~(uint64_t)0 >> (64 - i);
    CHECKF(bits_set(low) == (uint32_t)i, "low %d bits", i);
    CHECKF(bits_set(~low) == (uint32_t)(64 - i), "high %d bits", 64 - i);
  }
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (int k = 0; k < 1000000; k++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    uint64_t w = k & 1 ? x : x & (x >> 3); /* sparser words too */
    CHECKF(bits_set(w) == slow_count(w), "word %#llx",
           (unsigned long long)w);
  }
  printf("bits_set agrees with a bit-by-bit count\n");
  return 0;
}
