/* GC_set/get_warn_proc (incl. GC_ignore_warn_proc) and GC_set/get_oom_fn
 * round-trip; an impossible request goes to the oom function with its size
 * and GC_malloc(_atomic) returns that function's result. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

int warnings, oom_calls;
size_t oom_size;
void *oom_answer;

static void GC_CALLBACK my_warn(char *msg, GC_word arg) { warnings++; }
static void *GC_CALLBACK my_oom(size_t n) {
  oom_calls++;
  oom_size = n;
  return oom_answer;
}

int main(void) {
  GC_INIT();
  GC_warn_proc old_warn = GC_get_warn_proc();
  CHECK(old_warn != NULL, "GC_get_warn_proc() returned NULL");
  GC_set_warn_proc(my_warn);
  CHECK(GC_get_warn_proc() == my_warn, "GC_get_warn_proc() != my_warn");
  GC_set_warn_proc(GC_ignore_warn_proc);
  CHECK(GC_get_warn_proc() == GC_ignore_warn_proc, "GC_ignore_warn_proc");
  GC_set_warn_proc(my_warn);

  GC_oom_func old_oom = GC_get_oom_fn();
  CHECK(old_oom != NULL, "GC_get_oom_fn() returned NULL");
  GC_set_oom_fn(my_oom);
  CHECK(GC_get_oom_fn() == my_oom, "GC_get_oom_fn() != my_oom");

  const size_t huge = (size_t)1 << 50;   /* 1 PiB */
  void *p = GC_malloc(huge);
  CHECK(p == NULL, "GC_malloc(1 PiB) returned %p", p);
  CHECK(oom_calls == 1 && oom_size >= huge, "oom function calls %d, size "
        "%zu", oom_calls, oom_size);
  oom_answer = GC_malloc(32);
  CHECK(oom_answer != NULL, "small allocation after a failed one");
  p = GC_malloc_atomic(huge);
  CHECK(p == oom_answer, "GC_malloc_atomic did not return the oom "
        "function's result");
  p = GC_malloc(huge + 4096);
  CHECK(p == oom_answer && oom_calls == 3, "GC_malloc did not return the oom "
        "function's result");
  oom_answer = NULL;

  /* Normal service continues. */
  for (int i = 0; i < 1000; i++) CHECK(GC_malloc(100) != NULL, "allocation");
  GC_gcollect();
  GC_set_oom_fn(old_oom);
  GC_set_warn_proc(old_warn);
  CHECK(GC_get_oom_fn() == old_oom && GC_get_warn_proc() == old_warn,
        "restoring the previous procedures");
  PASS("bdwgc_warn_proc_and_oom_fn");
}
