// labels: api
/* The collector and fiber calls keep the promises spangc.h makes for bad
 * input: documented error returns, and aborts that name the call and the
 * pointer.  Each abort case runs in a child (this program run again with
 * the case's name); the parent checks SIGABRT and the message. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "spangc.h"

static void noop_fin(void *obj, void *arg) {}
static void noop_fiber(void *arg) {}
static sgc_fiber *g_main;
static void switch_to_self(void *arg) { sgc_fiber_switch(sgc_fiber_self()); }

static int global_word;

/* name, expected words in the message, action (never returns) */
typedef struct { const char *name, *want1, *want2; void (*run)(void); } death;

static void d_fin_interior(void) {
  char *p = sgc_alloc(64);
  sgc_set_finalizer(p + 8, noop_fin, NULL);
}
static void d_fin_foreign(void) { sgc_set_finalizer(&global_word, noop_fin, NULL); }
static void d_weak_foreign(void) {
  static void *slot;
  sgc_register_weak(&slot, &global_word);
}
static void d_exit_without_enter(void) { sgc_exit_blocking(); }
static void d_nested_blocking(void) {
  sgc_enter_blocking();
  sgc_enter_blocking();
}
static void d_switch_null(void) { sgc_fiber_switch(NULL); }
static void d_switch_not_fiber(void) { sgc_fiber_switch(sgc_alloc(128)); }
static void d_switch_running(void) {
  sgc_fiber *f = sgc_fiber_create(switch_to_self, NULL, 0);
  sgc_fiber_switch(f);
}
static void d_switch_finished(void) {
  sgc_fiber *f = sgc_fiber_create(noop_fiber, NULL, 0);
  sgc_fiber_switch(f);
  sgc_fiber_switch(f);
}

static void d_stats_null(void) { sgc_read_stats_size(NULL, sizeof(sgc_stats)); }

static const death deaths[] = {
    {"fin_interior", "sgc_set_finalizer", "interior", d_fin_interior},
    {"fin_foreign", "sgc_set_finalizer", "not a pointer", d_fin_foreign},
    {"weak_foreign", "sgc_register_weak", "not a pointer", d_weak_foreign},
    {"exit_without_enter", "sgc_exit_blocking", "not in a blocking", d_exit_without_enter},
    {"nested_blocking", "sgc_enter_blocking", "already in a blocking", d_nested_blocking},
    {"switch_null", "sgc_fiber_switch", "no fiber", d_switch_null},
    {"switch_not_fiber", "sgc_fiber_switch", "not a fiber", d_switch_not_fiber},
    {"switch_running", "sgc_fiber_switch", "running", d_switch_running},
    {"switch_finished", "sgc_fiber_switch", "finished", d_switch_finished},
    {"stats_null", "sgc_read_stats", "NULL", d_stats_null},
};

static void expect_death(const char *self, const death *d) {
  char out[4096];
  int status = run_self(self, d->name, out, sizeof out);
  CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
         "%s: status %#x, output:\n%s", d->name, status, out);
  CHECKF(strstr(out, d->want1) && strstr(out, d->want2),
         "%s: message lacks '%s' / '%s':\n%s", d->name, d->want1, d->want2,
         out);
}

int main(int argc, char **argv) {
  if (argc > 1) {
    sgc_init();
    g_main = sgc_fiber_self();
    for (size_t i = 0; i < sizeof deaths / sizeof deaths[0]; i++)
      if (strcmp(argv[1], deaths[i].name) == 0)
        deaths[i].run();
    return 3; /* the case did not abort */
  }
  sgc_init();
  /* Documented error returns. */
  CHECK(sgc_set_finalizer(NULL, noop_fin, NULL) == EINVAL);
  void *slot = NULL;
  CHECK(sgc_register_weak(NULL, sgc_alloc(16)) == EINVAL);
  CHECK(sgc_register_weak(&slot, NULL) == EINVAL);
  CHECK(sgc_unregister_weak(&slot) == ENOENT);
  CHECK(sgc_add_roots(NULL, &global_word) == EINVAL);
  CHECK(sgc_add_roots(&global_word + 1, &global_word) == EINVAL);
  CHECK(sgc_add_roots(&global_word, &global_word) == EINVAL);
  sgc_remove_roots(&global_word, &global_word + 1); /* not registered: no-op */
  CHECK(sgc_set_markers(0) == EINVAL && sgc_set_markers(-3) == EINVAL);
  errno = 0;
  CHECK(sgc_fiber_create(NULL, NULL, 0) == NULL && errno == EINVAL);
  errno = 0;
  CHECK(sgc_fiber_create(noop_fiber, NULL, (size_t)1 << 40) == NULL &&
        errno == ENOMEM);
  CHECK(!sgc_fiber_finished(NULL));
  /* A fiber created and finished normally still works after all that. */
  sgc_fiber *f = sgc_fiber_create(noop_fiber, NULL, 0);
  CHECK(f != NULL);
  sgc_fiber_switch(f);
  CHECK(sgc_fiber_finished(f));
  for (size_t i = 0; i < sizeof deaths / sizeof deaths[0]; i++)
    expect_death(argv[0], &deaths[i]);
  printf("%zu abort cases and the error returns behave as documented\n",
         sizeof deaths / sizeof deaths[0]);
  return 0;
}
