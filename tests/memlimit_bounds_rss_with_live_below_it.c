// labels: gc heap
// env: SPANGC_MEMLIMIT=160MiB
/* A program with about 100 MB live that keeps replacing its objects
 * (random sizes up to 2 KiB, 1.2 GB allocated in all, reading a few
 * objects per allocation) under SPANGC_MEMLIMIT=160MiB: what the
 * collector holds from the OS (sgc_stats.memory_held_bytes, sampled
 * throughout) and the process's peak RSS (VmHWM) stay within 168 MiB.
 * GOGC alone (100) would let the heap reach twice the live data, ~200 MB.
 * The goal the limit set is below GOGC's (limit_lowered_goals), and every
 * allocation succeeds.  Under AddressSanitizer only the held figure is
 * judged (its runtime's own memory is in the RSS). */
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "gctest.h"

#define LIVE ((size_t)100 << 20)
#define LIMIT ((uint64_t)160 << 20)
#define BOUND ((uint64_t)168 << 20)
#define NSLOT 100000 /* ~1 KiB on average each */

void *slots[NSLOT]; /* not static: the stores must stay */

static uint64_t status_kb(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  CHECK(f != NULL);
  char line[256];
  uint64_t v = 0;
  size_t n = strlen(field);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, field, n) == 0)
      v = strtoull(line + n, NULL, 10);
  fclose(f);
  return v;
}

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t next(void) {
  return xorshift64(&rng);
}

/* Sizes 16 .. 2032 bytes, 1 KiB on average; a tenth scanned. */
static void *make(void) {
  size_t sz = 16 + (next() % 127) * 16;
  void *p = next() % 10 == 0 ? sgc_alloc(sz) : sgc_alloc_noscan(sz);
  CHECK(p != NULL);
  memset(p, 0x5a, sz); /* programs fill what they allocate */
  return p;
}

int main(void) {
  sgc_init();
  sgc_stats st;
  sgc_read_stats(&st);
  CHECKF(st.memory_limit == LIMIT, "memory_limit %llu",
         (unsigned long long)st.memory_limit);
  uint64_t max_held = 0;
  size_t total = 0;
  for (size_t i = 0; i < NSLOT; i++)
    slots[i] = make();
  long rounds = scaled(12) * NSLOT;
  uint64_t sum = 0;
  for (long r = 0; r < rounds; r++) {
    slots[next() % NSLOT] = make();
    /* The program's own work: it reads some of its objects. */
    for (int k = 0; k < 8; k++)
      sum += *(volatile unsigned char *)slots[next() % NSLOT];
    if ((r & 4095) == 0) {
      sgc_read_stats(&st);
      if (st.memory_held_bytes > max_held)
        max_held = st.memory_held_bytes;
    }
    total++;
  }
  CHECK(sum == (uint64_t)rounds * 8 * 0x5a);
  sgc_read_stats(&st);
  uint64_t hwm = status_kb("VmHWM:") << 10;
  fprintf(stderr,
          "live ~%zu MiB, limit %llu MiB: held at most %.1f MiB, VmHWM %.1f "
          "MiB, %llu collections, %llu goals lowered, %llu put off\n",
          LIVE >> 20, (unsigned long long)(LIMIT >> 20),
          max_held / 1048576.0, hwm / 1048576.0,
          (unsigned long long)st.num_gc,
          (unsigned long long)st.limit_lowered_goals,
          (unsigned long long)st.limit_collections_put_off);
  CHECK(st.limit_lowered_goals > 0);
  CHECKF(max_held <= BOUND, "held %.1f MiB > %.1f MiB",
         max_held / 1048576.0, BOUND / 1048576.0);
  if (!TEST_ASAN)
    CHECKF(hwm <= BOUND, "VmHWM %.1f MiB > %.1f MiB", hwm / 1048576.0,
           BOUND / 1048576.0);
  return 0;
}
