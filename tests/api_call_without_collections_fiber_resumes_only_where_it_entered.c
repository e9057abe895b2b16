// labels: api fiber threads
// env: TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:detect_deadlocks=0:die_after_fork=0
/* A fiber suspended inside sgc_call_without_collections's fn holds the
 * read hold of the thread it entered on.  Resumed on that thread it
 * returns and collections go on; resumed on another thread it would
 * return there and leave the hold taken for ever (the next collection
 * hung: helper-62), so the switch aborts naming the fiber and the call.
 * A thread that exits while a fiber it ran is suspended inside fn would
 * keep the hold too: its exit aborts; one that unregisters inside fn and
 * returns does not.  The cases that must abort run in
 * a child (this program again with an argument); the parent checks the
 * signal and the message. */
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "check.h"
#include "spangc.h"

static sgc_fiber *home;  /* the entering thread's own stack */
static sgc_fiber *inner; /* the fiber that enters the call */
static volatile int returned;

static void *suspend_inside(void *arg) {
  sgc_fiber_switch(home); /* back to the thread's own stack, inside fn */
  return arg;
}

static void enter_call(void *arg) {
  void *r = sgc_call_without_collections(suspend_inside, arg);
  CHECK(r == arg);
  returned = 1;
  sgc_fiber_switch(home);
}

/* Runs on a registered thread: inner enters the call and suspends. */
static void start_inner(void) {
  home = sgc_fiber_self();
  inner = sgc_fiber_create(enter_call, (void *)0x51, 0);
  CHECK(inner != NULL);
  sgc_fiber_switch(inner);
  CHECK(!returned);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stage;

static void set_stage(int s) {
  pthread_mutex_lock(&mu);
  stage = s;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

static void wait_stage(int s) {
  pthread_mutex_lock(&mu);
  while (stage < s)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
}

/* "migrate": entered on a first thread, resumed on a second one. */
static void *entering_thread(void *arg) {
  start_inner();
  set_stage(1);
  wait_stage(2); /* never: the other thread's switch aborts */
  return arg;
}

static void *resuming_thread(void *arg) {
  wait_stage(1);
  fprintf(stderr, "resuming %p\n", (void *)inner);
  sgc_fiber_switch(inner); /* must abort */
  return arg;
}

static int child_migrate(void) {
  sgc_init();
  pthread_t a, b;
  CHECK(sgc_pthread_create(&a, NULL, entering_thread, NULL) == 0);
  CHECK(sgc_pthread_create(&b, NULL, resuming_thread, NULL) == 0);
  pthread_join(b, NULL);
  fprintf(stderr, "the switch on another thread returned\n");
  return 0;
}

/* "exit": the entering thread exits with the fiber still inside fn. */
static void *exiting_thread(void *arg) {
  start_inner();
  fprintf(stderr, "exiting with %p inside fn\n", (void *)inner);
  return arg; /* the thread's exit must abort */
}

static int child_exit(void) {
  sgc_init();
  pthread_t a;
  CHECK(sgc_pthread_create(&a, NULL, exiting_thread, NULL) == 0);
  pthread_join(a, NULL);
  fprintf(stderr, "the thread exited\n");
  return 0;
}

/* fn may unregister its thread (the hold is the thread's, not its
 * registration's): that aborted in the first version of the exit check
 * (helper-63). */
static void *unregister_inside(void *arg) {
  sgc_unregister_thread();
  return arg;
}

static void *unregistering_thread(void *arg) {
  CHECK(sgc_register_thread() == 0);
  CHECK(sgc_call_without_collections(unregister_inside, arg) == arg);
  return arg;
}

/* Resumed where it entered: fn returns, collections run again. */
static void *same_thread(void *arg) {
  start_inner();
  sgc_fiber_switch(inner);
  CHECK(returned);
  sgc_collect();
  return arg;
}

static void expect_abort(const char *self, const char *mode,
                         const char *want) {
  char out[8192];
  int status = run_self(self, mode, out, sizeof out);
  CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
         "%s: child status %#x, output:\n%s", mode, status, out);
  CHECKF(strstr(out, want) != NULL, "%s: no \"%s\" in:\n%s", mode, want,
         out);
}

int main(int argc, char **argv) {
  if (argc > 1)
    return strcmp(argv[1], "migrate") == 0 ? child_migrate() : child_exit();
  sgc_init();
  sgc_stats st;
  sgc_read_stats(&st);
  uint64_t before = st.num_gc;
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, same_thread, NULL) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  CHECK(pthread_create(&t, NULL, unregistering_thread, NULL) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  sgc_collect();
  sgc_read_stats(&st);
  CHECK(st.num_gc >= before + 2);
  expect_abort(argv[0], "migrate",
               "inside sgc_call_without_collections, entered on thread");
  expect_abort(argv[0], "exit",
               "thread exits inside sgc_call_without_collections");
  printf("api_call_without_collections_fiber_resumes_only_where_it_entered: "
         "ok\n");
  return 0;
}
