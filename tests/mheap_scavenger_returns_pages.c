// labels: heap
/* sgc_release_memory returns the pages of freed spans to the OS: it
 * reports the bytes, the pages stop being resident, heap_released_bytes
 * counts them (and stays within the idle bytes), and reusing part of the
 * released memory lowers the figure by about what was reused, not more.
 * Reused pages read as zero and work as memory again. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "spangc-int.h"

#define NOBJ 64
#define OBJ (1 << 20)

typedef unsigned long long ull;
static char *objs[NOBJ];

int main(void) {
  sgc_init();
  sgc_disable();
  sgc_stats st;

  for (int i = 0; i < NOBJ; i++) {
    objs[i] = (i & 1) ? sgc_alloc_noscan(OBJ) : sgc_alloc(OBJ);
    CHECK(objs[i] != NULL);
    memset(objs[i], 0x77, OBJ);
  }
  size_t res_before = 0;
  for (int i = 0; i < NOBJ; i++)
    res_before += resident_pages(objs[i], OBJ);
  CHECK(res_before > 0);
  sgc_read_stats(&st);
  uint64_t released0 = st.heap_released_bytes;

  for (int i = 0; i < NOBJ; i++)
    sgc_free(objs[i]);
  sgc_read_stats(&st);
  CHECK(st.heap_idle_bytes >= (uint64_t)NOBJ * OBJ);

  size_t rel = sgc_release_memory();
  CHECKF(rel >= (size_t)NOBJ * OBJ, "released %zu bytes of %zu freed", rel,
         (size_t)NOBJ * OBJ);
  sgc_read_stats(&st);
  CHECKF(st.heap_released_bytes >= released0 + (uint64_t)NOBJ * OBJ,
         "heap_released_bytes %llu", (ull)st.heap_released_bytes);
  CHECK(st.heap_released_bytes <= st.heap_idle_bytes);
  uint64_t released1 = st.heap_released_bytes;
  size_t res_after = 0;
  for (int i = 0; i < NOBJ; i++)
    res_after += resident_pages(objs[i], OBJ);
  CHECKF(res_after == 0, "%zu of %zu pages still resident after release",
         res_after, res_before);

  /* Nothing more to release right away. */
  CHECK(sgc_release_memory() == 0);

  /* Reuse 8 MiB of the released memory. */
  char *again[8];
  for (int i = 0; i < 8; i++) {
    again[i] = (i & 1) ? sgc_alloc_noscan(OBJ) : sgc_alloc(OBJ);
    CHECK(again[i] != NULL);
  }
  sgc_read_stats(&st);
  CHECKF(st.heap_released_bytes < released1, "released %llu -> %llu",
         (ull)released1, (ull)st.heap_released_bytes);
  /* Only the reused pages stopped being released. */
  CHECKF(st.heap_released_bytes + 8ull * OBJ + 16 * PAGE_SIZE >= released1,
         "reusing 8 MiB lowered the released bytes from %llu to %llu",
         (ull)released1, (ull)st.heap_released_bytes);
  CHECK(st.heap_released_bytes <= st.heap_idle_bytes);
  for (int i = 0; i < 8; i++) {
    /* Released pages come back as zero (noscan ones too: the OS zeroed
     * them), and are usable. */
    for (size_t k = 0; k < OBJ; k += 4096)
      CHECKF(again[i][k] == 0, "object %d byte %zu: %#x", i, k,
             (unsigned)(unsigned char)again[i][k]);
    memset(again[i], 0x11, OBJ);
  }
  for (int i = 0; i < 8; i++)
    for (size_t k = 0; k < OBJ; k += 512)
      CHECK(again[i][k] == 0x11);

  /* Small objects on released pages. */
  char *small[1000];
  for (int i = 0; i < 1000; i++) {
    small[i] = sgc_alloc(500);
    CHECK(small[i] != NULL);
    for (int k = 0; k < 500; k++)
      CHECK(small[i][k] == 0);
    memset(small[i], i & 0xff, 500);
  }
  for (int i = 0; i < 1000; i++)
    CHECK(small[i][499] == (char)(i & 0xff));

  /* Free and release again: the reused bytes come back. */
  for (int i = 0; i < 8; i++)
    sgc_free(again[i]);
  rel = sgc_release_memory();
  CHECKF(rel >= 8u * OBJ, "second release: %zu bytes", rel);
  sgc_read_stats(&st);
  CHECK(st.heap_released_bytes <= st.heap_idle_bytes);
  CHECK(st.heap_released_bytes >= 8u * OBJ);
  sgc_heap_verify();
  printf("released %llu KiB\n", (ull)(st.heap_released_bytes >> 10));
  return 0;
}
