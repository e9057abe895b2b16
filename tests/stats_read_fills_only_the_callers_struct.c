// labels: heap api
/* sgc_read_stats writes as many bytes as the caller's sgc_stats has and no
 * more: a program built against an older spangc.h (a shorter struct:
 * fields are only appended) keeps the memory after its struct; one built
 * against a newer header (a longer struct) gets the tail zeroed; the
 * return value is the library's own size.  The unsized symbol that
 * programs built before the macro call writes the first header's size
 * only (fields were once inserted before by_class, so no later offset is
 * safe for them all).  Before the sized call, the library wrote its whole
 * struct over whatever followed an older program's. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "spangc.h"

#define GUARD 0xA5
#define TAIL 512
/* sizeof(sgc_stats) in the first spangc.h (3cb652b), the smallest any
 * program built before the sized call can have. */
#define FIRST 2368

typedef unsigned long long ull;

/* The library's unsized entry point, as an older program linked it. */
void(sgc_read_stats)(sgc_stats *s);

static unsigned char buf[sizeof(sgc_stats) + TAIL];

/* Bytes [from, to) of buf all hold v. */
static int all(size_t from, size_t to, unsigned v) {
  for (size_t i = from; i < to; i++)
    if (buf[i] != v)
      return 0;
  return 1;
}

int main(void) {
  sgc_init();
  for (int i = 0; i < 10000; i++)
    CHECK(sgc_alloc(48) != NULL);
  sgc_collect();

  sgc_stats ref;
  sgc_read_stats(&ref);
  CHECK(ref.num_gc >= 1);
  CHECK(ref.total_allocs >= 10000);
  CHECK(ref.by_class[0].size == 0 && ref.by_class[1].size > 0);

  /* A shorter struct: the layout that ends with the per-class table. */
  size_t old = offsetof(sgc_stats, arena_committed_bytes);
  memset(buf, GUARD, sizeof buf);
  size_t lib = sgc_read_stats_size((sgc_stats *)buf, old);
  CHECKF(lib == sizeof(sgc_stats), "returned %zu, sizeof %zu", lib,
         sizeof(sgc_stats));
  CHECKF(all(old, sizeof buf, GUARD), "bytes past the caller's %zu written",
         old);
  sgc_stats got;
  memcpy(&got, buf, sizeof got);
  CHECK(got.num_gc >= ref.num_gc && got.total_allocs >= ref.total_allocs);
  CHECK(got.by_class[1].size == ref.by_class[1].size);

  /* Every size, down to one byte, and zero: never a byte past it. */
  for (size_t n = 0; n <= sizeof(sgc_stats); n += (n < 64 ? 1 : 61)) {
    memset(buf, GUARD, sizeof buf);
    sgc_read_stats_size((sgc_stats *)buf, n);
    CHECKF(all(n, sizeof buf, GUARD), "size %zu: bytes past it written", n);
  }

  /* A longer struct (a newer header than the library): the tail zeroed. */
  memset(buf, GUARD, sizeof buf);
  sgc_read_stats_size((sgc_stats *)buf, sizeof(sgc_stats) + TAIL / 2);
  CHECK(all(sizeof(sgc_stats), sizeof(sgc_stats) + TAIL / 2, 0));
  CHECK(all(sizeof(sgc_stats) + TAIL / 2, sizeof buf, GUARD));
  memcpy(&got, buf, sizeof got);
  CHECK(got.gcpercent == ref.gcpercent && got.markers == ref.markers);

  /* The unsized symbol: the first FIRST bytes and no more. */
  memset(buf, GUARD, sizeof buf);
  (sgc_read_stats)((sgc_stats *)buf);
  CHECKF(all(FIRST, sizeof buf, GUARD), "the unsized symbol wrote past the "
         "first header's %d bytes", FIRST);
  memset(&got, 0, sizeof got);
  memcpy(&got, buf, FIRST);
  CHECK(got.num_gc >= ref.num_gc && got.by_class[1].size > 0);
  printf("library sgc_stats %zu bytes; unsized symbol fills %d\n", lib,
         FIRST);
  return 0;
}
