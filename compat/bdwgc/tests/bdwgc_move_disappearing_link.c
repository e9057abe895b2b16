/* GC_move_disappearing_link moves a registration (the new location clears,
 * the old one no longer does, *new_link untouched) and returns GC_SUCCESS,
 * GC_NOT_FOUND or GC_DUPLICATE as documented, also for new_link == link. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define N 800

GC_hidden_pointer from[N], to[N], other[N];
char *live[N];
GC_hidden_pointer lfrom[N], lto[N];

static NOINLINE void build(void) {
  for (int i = 0; i < N; i++) {
    char *d = GC_malloc(32), *e = GC_malloc(32);
    CHECK(d && e, "allocation");
    watch(&from[i], d);
    to[i] = 12345;   /* must not be changed by the move */
    int r = GC_move_disappearing_link((void **)&from[i], (void **)&to[i]);
    CHECK(r == GC_SUCCESS, "GC_move_disappearing_link returned %d", r);
    CHECK(to[i] == 12345, "GC_move_disappearing_link changed *new_link");
    to[i] = GC_HIDE_POINTER(d);
    r = GC_move_disappearing_link((void **)&from[i], (void **)&to[i]);
    CHECK(r == GC_NOT_FOUND, "moving from a moved-away link returned %d", r);
    r = GC_move_disappearing_link((void **)&from[i], (void **)&from[i]);
    CHECK(r == GC_NOT_FOUND, "checking an unregistered link returned %d", r);
    r = GC_move_disappearing_link((void **)&to[i], (void **)&to[i]);
    CHECK(r == GC_SUCCESS, "checking a registered link returned %d", r);

    watch(&other[i], e);
    r = GC_move_disappearing_link((void **)&to[i], (void **)&other[i]);
    CHECK(r == GC_DUPLICATE, "moving onto a registered link returned %d", r);
    CHECK(GC_unregister_disappearing_link((void **)&other[i]) == 1,
          "unregistering");
    other[i] = 0;

    /* A reachable object, link moved twice. */
    char *l = GC_malloc(32);
    CHECK(l != NULL, "allocation");
    fill_pattern(l, 32, i);
    live[i] = l;
    watch(&lfrom[i], l);
    CHECK(GC_move_disappearing_link((void **)&lfrom[i], (void **)&lto[i]) ==
              GC_SUCCESS, "move");
    CHECK(GC_move_disappearing_link((void **)&lto[i], (void **)&lfrom[i]) ==
              GC_SUCCESS, "move back");
    CHECK(GC_move_disappearing_link((void **)&lfrom[i], (void **)&lto[i]) ==
              GC_SUCCESS, "move again");
    lto[i] = GC_HIDE_POINTER(l);
  }
}

int main(void) {
  GC_INIT();
  build();
  clear_stack();
  for (int round = 0; round < 20; round++) {
    collect(1);
    for (int i = 0; i < N; i++) {
      CHECK(lto[i] == GC_HIDE_POINTER(live[i]), "moved link to a reachable "
            "object cleared (%d)", i);
      CHECK(check_pattern(live[i], 32, i) < 0, "reachable object changed");
    }
  }
  long moved_cleared = count_cleared(to, N);
  CHECK(mostly(moved_cleared, N), "only %ld of %d moved links cleared when "
        "their objects died", moved_cleared, N);
  for (int i = 0; i < N; i++)
    CHECK(from[i] == GC_HIDE_POINTER(GC_REVEAL_POINTER(from[i])) &&
              from[i] != 0, "the old location of a moved link was cleared");
  PASS("bdwgc_move_disappearing_link");
}
