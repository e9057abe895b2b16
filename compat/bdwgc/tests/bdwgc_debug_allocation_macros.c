/* With GC_DEBUG, the GC_MALLOC(_...), GC_STRDUP, GC_REALLOC, GC_FREE, GC_NEW,
 * finalizer and disappearing-link macros (and GC_debug_* calls) give usable
 * objects, cleared where promised, that live while reachable; finalizers get
 * the pointer the macro returned. */
// labels: bdwgc
#define GC_DEBUG
#include <gc.h>
#include "bdwgc_check.h"

#define NKEEP 200
#define NFIN 600
char *kept[NKEEP];
size_t kept_size[NKEEP];
GC_hidden_pointer fin_obj[NFIN];
GC_hidden_pointer w_link[NFIN];
int fin_calls, fin_wrong_obj;

static void GC_CALLBACK on_fin(void *obj, void *cd) {
  intptr_t i = (intptr_t)cd;
  if (i < 0 || i >= NFIN || obj != GC_REVEAL_POINTER(fin_obj[i]))
    fin_wrong_obj++;
  fin_calls++;
}

static void check_obj(char *p, size_t sz, int cleared, const char *what) {
  CHECK(p != NULL, "%s(%zu) returned NULL", what, sz);
  char *base = GC_base(p);
  CHECK(base != NULL && base <= p, "%s: GC_base(%p) = %p", what, (void *)p,
        (void *)base);
  CHECK(p + sz <= base + GC_size(base), "%s(%zu): object does not fit", what,
        sz);
  if (cleared) CHECK(all_zero(p, sz), "%s(%zu): not cleared", what, sz);
}

static NOINLINE void make_finalizable(void) {
  for (int i = 0; i < NFIN; i++) {
    char *p = (i % 3 == 0)   ? GC_MALLOC(24 + i % 50)
              : (i % 3 == 1) ? GC_MALLOC_ATOMIC(24 + i % 50)
                             : GC_STRDUP("some text to finalize");
    CHECK(p != NULL, "allocation");
    fin_obj[i] = GC_HIDE_POINTER(p);
    GC_finalization_proc ofn = on_fin;
    void *ocd = &ofn;
    GC_REGISTER_FINALIZER(p, on_fin, (void *)(intptr_t)i, &ofn, &ocd);
    CHECK(ofn == 0 && ocd == 0, "first registration reported an old "
          "finalizer");
    w_link[i] = GC_HIDE_POINTER(p);
    int r = GC_GENERAL_REGISTER_DISAPPEARING_LINK((void **)&w_link[i], p);
    CHECK(r == GC_SUCCESS, "GC_GENERAL_REGISTER_DISAPPEARING_LINK: %d", r);
  }
}

int main(void) {
  GC_INIT();
  GC_set_finalize_on_demand(1);

  for (int i = 0; i < NKEEP; i++) {
    size_t sz = 1 + (size_t)(i * 97) % 3000;
    char *p;
    switch (i % 7) {
      case 0: p = GC_MALLOC(sz); check_obj(p, sz, 1, "GC_MALLOC"); break;
      case 1: p = GC_MALLOC_ATOMIC(sz); check_obj(p, sz, 0, "GC_MALLOC_ATOMIC");
        break;
      case 2: p = GC_MALLOC_UNCOLLECTABLE(sz);
        check_obj(p, sz, 1, "GC_MALLOC_UNCOLLECTABLE"); break;
      case 3: p = GC_MALLOC_ATOMIC_UNCOLLECTABLE(sz);
        check_obj(p, sz, 0, "GC_MALLOC_ATOMIC_UNCOLLECTABLE"); break;
      case 4: p = GC_MALLOC_IGNORE_OFF_PAGE(sz + 5000);
        check_obj(p, sz + 5000, 1, "GC_MALLOC_IGNORE_OFF_PAGE"); break;
      case 5: p = GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(sz + 5000);
        check_obj(p, sz + 5000, 0, "GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE"); break;
      default: p = GC_debug_malloc(sz, __FILE__, __LINE__);
        check_obj(p, sz, 1, "GC_debug_malloc"); break;
    }
    fill_pattern(p, sz, i);
    kept[i] = p;
    kept_size[i] = sz;
  }
  /* realloc keeps the contents, grows and shrinks. */
  for (int i = 0; i < NKEEP; i += 7) {
    char *q = GC_REALLOC(kept[i], kept_size[i] + 4000);
    check_obj(q, kept_size[i] + 4000, 0, "GC_REALLOC");
    CHECK(check_pattern(q, kept_size[i], i) < 0, "GC_REALLOC lost contents");
    kept[i] = q;
  }
  char *s = GC_STRDUP("debug string");
  CHECK(s && strcmp(s, "debug string") == 0, "GC_STRDUP");
  char *t = GC_STRNDUP("debug string", 5);
  CHECK(t && strcmp(t, "debug") == 0, "GC_STRNDUP");
  struct pair { void *a, *b; } *pr = GC_NEW(struct pair);
  check_obj((char *)pr, sizeof *pr, 1, "GC_NEW");
  for (int i = 0; i < 100; i++) {
    char *f = GC_MALLOC(100);
    check_obj(f, 100, 1, "GC_MALLOC");
    GC_FREE(f);
    f = GC_debug_malloc_atomic(50, __FILE__, __LINE__);
    check_obj(f, 50, 0, "GC_debug_malloc_atomic");
    GC_debug_free(f);
  }
  GC_FREE(NULL);

  make_finalizable();
  clear_stack();
  for (int round = 0; round < 20; round++) {
    collect(1);
    for (int i = 0; i < NKEEP; i++)
      CHECK(check_pattern(kept[i], kept_size[i], i) < 0,
            "kept debug object %d changed after %d collections", i, round + 1);
  }
  CHECK(fin_wrong_obj == 0, "%d finalizers did not receive the pointer "
        "GC_MALLOC returned", fin_wrong_obj);
  CHECK(mostly(fin_calls, NFIN), "only %d of %d unreachable debug objects "
        "finalized", fin_calls, NFIN);
  long cleared = count_cleared(w_link, NFIN);
  CHECK(mostly(cleared, NFIN), "only %ld of %d disappearing links to "
        "unreachable debug objects cleared", cleared, NFIN);
  PASS("bdwgc_debug_allocation_macros");
}
