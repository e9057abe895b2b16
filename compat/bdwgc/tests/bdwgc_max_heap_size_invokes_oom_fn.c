/* GC_set_max_heap_size bounds the heap: filling it fails through the
 * GC_set_oom_fn function (given the size; its result is GC_malloc's), as does
 * one request above the limit; after a collection allocation works again. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define LIMIT ((size_t)64 << 20)
#define CHUNK 65536

int oom_calls;
size_t oom_last;
void *oom_result;

static void *GC_CALLBACK my_oom(size_t bytes) {
  oom_calls++;
  oom_last = bytes;
  return oom_result;
}

static void GC_CALLBACK quiet_warn(char *msg, GC_word arg) {}

/* The live objects.  Not a linked list: a stray pointer to one of them
 * must not keep the others alive. */
#define MAXHELD (4 * LIMIT / CHUNK)
void *held[MAXHELD];

static NOINLINE size_t fill_heap(void) {
  size_t n = 0;
  for (;;) {
    void *p = GC_malloc(CHUNK);
    if (p == NULL) break;
    CHECK(n < MAXHELD, "kept %zu bytes alive under a %zu-byte limit",
          n * CHUNK, LIMIT);
    held[n++] = p;
  }
  return n * CHUNK;
}

static NOINLINE void drop_all(void) {
  memset(held, 0, sizeof held);
  clear_stack();
  GC_gcollect();
  GC_gcollect();
}

int main(void) {
  GC_INIT();
  GC_set_warn_proc(quiet_warn);
  GC_set_oom_fn(my_oom);
  CHECK(GC_get_oom_fn() == my_oom, "GC_get_oom_fn() != the function set");
  GC_set_max_heap_size(LIMIT);

  size_t live = fill_heap();
  CHECK(oom_calls >= 1, "GC_malloc returned NULL without calling the oom "
        "function");
  CHECK(oom_last >= CHUNK, "oom function called with %zu bytes, request was "
        "%d", oom_last, CHUNK);
  CHECK(live >= LIMIT / 4, "allocation failed after only %zu live bytes "
        "under a %zu-byte limit", live, LIMIT);
  size_t heap = GC_get_heap_size();
  CHECK(heap <= LIMIT + LIMIT / 10, "heap size %zu above the %zu-byte limit",
        heap, LIMIT);

  /* One request larger than the limit. */
  oom_calls = 0;
  void *big = GC_malloc(2 * LIMIT);
  CHECK(big == NULL && oom_calls == 1 && oom_last >= 2 * LIMIT,
        "request of %zu bytes: result %p, oom calls %d, oom size %zu",
        2 * LIMIT, big, oom_calls, oom_last);

  /* Drop everything: allocation works again. */
  drop_all();
  oom_calls = 0;
  size_t again = fill_heap();
  CHECK(again >= LIMIT / 4, "after dropping the objects only %zu bytes could "
        "be allocated", again);
  drop_all();

  /* The oom function may supply an existing object. */
  oom_result = GC_malloc(16);
  CHECK(oom_result != NULL, "small allocation after collection failed");
  big = GC_malloc(2 * LIMIT);
  CHECK(big == oom_result, "GC_malloc did not return the oom function's "
        "result");
  PASS("bdwgc_max_heap_size_invokes_oom_fn");
}
