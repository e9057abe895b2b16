// labels: gc
// env: SPANGC_MARK_STACK_MAX=65536
/* Mark procedures and a full mark stack.  With the mark stack capped at
 * 64 KiB (16 work buffers, about 4000 entries), procedures that push many
 * entries overflow it: ten objects whose procedure pushes 2000 one-word
 * range entries each, and one whose procedure pushes 6000 in a single
 * call (more than the whole cap; bdwgc's idiom with
 * sgc_mark_stack_overflow).  The collector recovers as design.md
 * promises (no entry is lost, so procedures that always push a lot still
 * converge): every collection finishes (a watchdog fails the test after
 * 20 s) and every object reached through an entry survives with its
 * contents intact, with one marker and with two. */
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include "spangc.h"

#define NFANS 11
#define SMALL_FAN 2000
#define BIG_FAN 6000

typedef struct fan {
  void **arr; /* malloc'ed */
  size_t n;
} fan;

typedef struct elem {
  uint64_t id, check;
} elem;

static sgc_mark_entry *fan_proc(uintptr_t *addr, sgc_mark_entry *top,
                                sgc_mark_entry *limit, uintptr_t env) {
  fan *f = (fan *)addr;
  if (f->arr == NULL)
    return top;
  for (size_t i = 0; i < f->n; i++) {
    if (++top >= limit)
      top = sgc_mark_stack_overflow(top);
    top->start = &f->arr[i];
    top->descr = sizeof(void *) | SGC_DS_LENGTH;
  }
  return top;
}

fan *volatile g_fans[NFANS];

static void on_alarm(int sig) {
  static const char msg[] = "watchdog: collections did not finish in 20 s "
                            "(mark-stack overflow recovery with mark "
                            "procedures does not converge)\n";
  ssize_t w = write(2, msg, sizeof msg - 1);
  (void)w;
  _exit(1);
}

static uint64_t elem_id(int f, size_t i) { return (uint64_t)f << 32 | i; }

__attribute__((noinline)) static void churn(long n) {
  for (long i = 0; i < n; i++) {
    elem *volatile e = sgc_alloc(sizeof(elem));
    CHECK(e != NULL);
    e->id = e->check = ~0ull;
  }
}

static void check_fans(const char *what) {
  for (int f = 0; f < NFANS; f++)
    for (size_t i = 0; i < g_fans[f]->n; i++) {
      const elem *e = g_fans[f]->arr[i];
      uint64_t id = elem_id(f, i);
      CHECKF(e->id == id && e->check == ~id, "%s: fan %d element %zu lost",
             what, f, i);
    }
}

int main(void) {
  signal(SIGALRM, on_alarm);
  /* As the env line says, also when run by hand (read at the first
   * collection). */
  setenv("SPANGC_MARK_STACK_MAX", "65536", 1);
  sgc_init();
  int k = sgc_new_kind(SGC_MAKE_PROC(sgc_new_mark_proc(fan_proc), 0), 0);
  CHECK(k >= 2);
  for (int f = 0; f < NFANS; f++) {
    size_t n = f == 0 ? BIG_FAN : SMALL_FAN;
    fan *o = sgc_alloc_kind(sizeof *o, k);
    void **arr = malloc(n * sizeof(void *));
    CHECK(o != NULL && arr != NULL);
    for (size_t i = 0; i < n; i++) {
      elem *e = sgc_alloc(sizeof *e);
      CHECK(e != NULL);
      e->id = elem_id(f, i);
      e->check = ~e->id;
      arr[i] = e;
    }
    o->n = n;
    o->arr = arr;
    g_fans[f] = o;
  }
  for (int markers = 1; markers <= 2; markers++) {
    CHECK(sgc_set_markers(markers) == 0);
    for (int r = 0; r < 3; r++) {
      alarm(20); /* churn collects by itself too */
      sgc_collect();
      churn(scaled(100000));
      alarm(0);
      check_fans(markers == 1 ? "one marker" : "two markers");
    }
  }
  sgc_stats st;
  sgc_read_stats(&st);
  printf("%d objects reached through %d fans intact; %llu overflow "
         "rescans\n", BIG_FAN + (NFANS - 1) * SMALL_FAN, NFANS,
         (unsigned long long)st.mark_overflows);
  return 0;
}
