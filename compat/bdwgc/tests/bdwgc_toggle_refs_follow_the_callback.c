/* Toggle references: GC_toggleref_add(obj, 1) keeps an otherwise unreachable
 * object alive while the callback answers GC_TOGGLE_REF_STRONG; once it
 * answers GC_TOGGLE_REF_WEAK or GC_TOGGLE_REF_DROP the object can die; the
 * callback is asked about every registered live object at collections, and
 * no longer about dropped ones; an object added weak (is_strong 0) is not
 * kept; the getter returns the callback; with no callback set,
 * GC_toggleref_add records nothing and returns GC_SUCCESS. */
// labels: bdwgc
// requires: GC_set_toggleref_func GC_toggleref_add GC_TOGGLE_REF_WEAK
#include <gc.h>
#include "bdwgc_check.h"

#define N 300
struct obj {
  long magic;
  long index;
};
#define MAGIC 0x70661eL

static GC_ToggleRefStatus answer[3 * N];
static volatile long asked[3 * N], asked_bad;

static GC_ToggleRefStatus GC_CALLBACK decide(void *p) {
  struct obj *o = p;
  if (o->magic != MAGIC || o->index < 0 || o->index >= 3 * N) {
    asked_bad++;
    return GC_TOGGLE_REF_DROP;
  }
  asked[o->index]++;
  return answer[o->index];
}

GC_hidden_pointer w[3 * N];

/* [0, N): strong then weak; [N, 2N): strong then dropped; [2N, 3N): added
 * weak. */
static NOINLINE void build(void) {
  for (int i = 0; i < 3 * N; i++) {
    struct obj *o = GC_malloc(sizeof *o);
    CHECK(o != NULL, "allocation");
    o->magic = MAGIC;
    o->index = i;
    answer[i] = i < 2 * N ? GC_TOGGLE_REF_STRONG : GC_TOGGLE_REF_WEAK;
    int r = GC_toggleref_add(o, i < 2 * N);
    CHECK(r == GC_SUCCESS, "GC_toggleref_add returned %d", r);
    watch(&w[i], o);
  }
}

static long alive(int from, int to) {
  long n = 0;
  for (int i = from; i < to; i++) n += w[i] != 0;
  return n;
}

int main(void) {
  GC_INIT();
  /* No callback: accepted, nothing recorded. */
  struct obj *lone = GC_malloc(sizeof *lone);
  CHECK(GC_toggleref_add(lone, 1) == GC_SUCCESS, "add without a callback");
  GC_set_toggleref_func(decide);
  CHECK(GC_get_toggleref_func() == decide, "getter returned another callback");
  build();
  clear_stack();
  collect(3);
  CHECK(asked_bad == 0, "the callback got %ld foreign objects", asked_bad);
  CHECK(alive(0, 2 * N) == 2 * N, "%ld of %d strong toggle-refs died",
        2 * N - alive(0, 2 * N), 2 * N);
  for (int i = 0; i < 2 * N; i++)
    CHECK(asked[i] >= 1, "never asked about live object %d", i);
  CHECK(mostly(N - alive(2 * N, 3 * N), N), "%ld of %d objects added weak "
        "survived", alive(2 * N, 3 * N), N);

  for (int i = 0; i < N; i++) answer[i] = GC_TOGGLE_REF_WEAK;
  for (int i = N; i < 2 * N; i++) answer[i] = GC_TOGGLE_REF_DROP;
  clear_stack();
  collect(4);
  CHECK(mostly(N - alive(0, N), N), "%ld of %d objects turned weak survived",
        alive(0, N), N);
  CHECK(mostly(N - alive(N, 2 * N), N), "%ld of %d dropped objects survived",
        alive(N, 2 * N), N);
  long before[2 * N];
  for (int i = N; i < 2 * N; i++) before[i] = asked[i];
  collect(2);
  for (int i = N; i < 2 * N; i++)
    CHECK(asked[i] == before[i], "asked again about dropped object %d", i);
  CHECK(asked_bad == 0, "the callback got %ld foreign objects", asked_bad);
  KEEP(lone);
  PASS("bdwgc_toggle_refs_follow_the_callback");
}
