// labels: gc threads
/* Thread-local variables are roots: an object referenced only from a
 * __thread / _Thread_local variable survives collections, for
 *   - the main thread's static TLS (which lies outside its stack);
 *   - another thread's static TLS, for a thread made by
 *     sgc_pthread_create, a plain thread that registered itself, and one
 *     registered by its first allocation;
 *   - the dynamic TLS of a dlopen'ed library (allocated by the C library
 *     on first use), in the main thread and in another thread.
 * A thread's TLS stops being scanned when it exits (it leaves the thread
 * list), and collections after dlclose of a library whose TLS block a
 * thread still has work.
 * Each object is filled with a pattern; after collections and churn of
 * the same size its pattern is intact and no allocation returned it. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define KEY ((uintptr_t)0x6b6b6b6b6b6b6b6bull)
#define SIZE 200

static __thread void *static_slot;
static _Thread_local void *c11_slot;
static void (*mod_set)(void *);
static void *(*mod_get)(void);

static void *make(uint64_t tag) {
  uint64_t *p = sgc_alloc(SIZE);
  CHECK(p != NULL);
  for (int i = 0; i < SIZE / 8; i++)
    p[i] = tag * 0x9e3779b97f4a7c15ull + (uint64_t)i;
  return p;
}

static void check_obj(const void *o, uint64_t tag, const char *what) {
  CHECKF(o != NULL, "%s: slot empty", what);
  CHECKF(sgc_base(o) == o, "%s: object %p was freed", what, o);
  const uint64_t *p = o;
  for (int i = 0; i < SIZE / 8; i++)
    CHECKF(p[i] == tag * 0x9e3779b97f4a7c15ull + (uint64_t)i,
           "%s: object %p was freed and reused", what, o);
}

/* Collect and allocate the objects' size; the hidden addresses of the
 * objects under test must never come back. */
static uintptr_t watched[8];
static int nwatched;
static void collect_and_churn(void) {
  clear_stack();
  for (int r = 0; r < 3; r++) {
    sgc_collect();
    for (int k = 0; k < 20000; k++) {
      uint64_t *p = sgc_alloc(SIZE);
      for (int j = 0; j < nwatched; j++)
        CHECKF(((uintptr_t)p ^ KEY) != watched[j],
               "a thread-local object's memory was handed out again");
      p[0] = ~0ull;
    }
  }
}

__attribute__((noinline)) static void fill_main(void) {
  static_slot = make(1);
  c11_slot = make(2);
  mod_set(make(3));
  watched[nwatched++] = (uintptr_t)static_slot ^ KEY;
  watched[nwatched++] = (uintptr_t)c11_slot ^ KEY;
  watched[nwatched++] = (uintptr_t)mod_get() ^ KEY;
}

/* Another thread: fills its slots, then waits (in a blocking region)
 * while the main thread collects and churns, then checks. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int phase;

static void wait_phase(int want) {
  sgc_enter_blocking();
  pthread_mutex_lock(&mu);
  while (phase < want)
    pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  sgc_exit_blocking();
}
static void set_phase(int p) {
  pthread_mutex_lock(&mu);
  phase = p;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

__attribute__((noinline)) static void fill_worker(uint64_t base) {
  static_slot = make(base);
  c11_slot = make(base + 1);
  mod_set(make(base + 2));
  pthread_mutex_lock(&mu);
  watched[nwatched++] = (uintptr_t)static_slot ^ KEY;
  watched[nwatched++] = (uintptr_t)mod_get() ^ KEY;
  pthread_mutex_unlock(&mu);
}

static void *worker(void *arg) {
  uint64_t base = (uint64_t)(uintptr_t)arg;
  if (base == 20)
    CHECK(sgc_register_thread() == 0);
  fill_worker(base);
  clear_stack();
  set_phase(1);
  wait_phase(2);
  check_obj(static_slot, base, "another thread's __thread variable");
  check_obj(c11_slot, base + 1, "another thread's _Thread_local variable");
  check_obj(mod_get(), base + 2, "another thread's dynamic TLS");
  if (base == 20)
    sgc_unregister_thread();
  return NULL;
}

static void other_thread(uint64_t base) {
  phase = 0;
  nwatched = 3;
  pthread_t t;
  if (base != 10) /* plain threads: registered explicitly, or by make() */
    CHECK(pthread_create(&t, NULL, worker, (void *)(uintptr_t)base) == 0);
  else
    CHECK(sgc_pthread_create(&t, NULL, worker, (void *)(uintptr_t)base) == 0);
  wait_phase(1);
  collect_and_churn();
  set_phase(2);
  sgc_enter_blocking();
  pthread_join(t, NULL);
  sgc_exit_blocking();
}

/* A thread that exits leaves the thread list: its TLS is no longer a
 * root (scanning it would read memory the C library frees or reuses). */
static void *exiting(void *unused) {
  static_slot = make(30);
  return NULL;
}

int main(void) {
  sgc_init();
  void *mod = dlopen(TLS_MODULE, RTLD_NOW);
  CHECKF(mod != NULL, "dlopen: %s", dlerror());
  mod_set = (void (*)(void *))dlsym(mod, "tlsmodule_set");
  mod_get = (void *(*)(void))dlsym(mod, "tlsmodule_get");
  CHECK(mod_set && mod_get);

  fill_main();
  collect_and_churn();
  check_obj(static_slot, 1, "the main thread's __thread variable");
  check_obj(c11_slot, 2, "the main thread's _Thread_local variable");
  check_obj(mod_get(), 3, "the main thread's dynamic TLS");

  other_thread(10); /* sgc_pthread_create */
  other_thread(20); /* plain thread, sgc_register_thread */
  other_thread(50); /* plain thread, registered by its first allocation */

  int before = world_nthreads();
  for (int i = 0; i < 5; i++) {
    pthread_t t;
    CHECK(sgc_pthread_create(&t, NULL, exiting, NULL) == 0);
    sgc_enter_blocking();
    pthread_join(t, NULL);
    sgc_exit_blocking();
    sgc_collect();
  }
  CHECKF(world_nthreads() == before, "%d threads registered, %d before",
         world_nthreads(), before);

  /* dlclose while the main thread's block of the module is allocated. */
  mod_set(NULL);
  CHECK(dlclose(mod) == 0);
  sgc_collect();
  mod = dlopen(TLS_MODULE, RTLD_NOW);
  CHECK(mod != NULL);
  mod_set = (void (*)(void *))dlsym(mod, "tlsmodule_set");
  mod_get = (void *(*)(void))dlsym(mod, "tlsmodule_get");
  mod_set(make(40));
  nwatched = 1;
  watched[0] = (uintptr_t)mod_get() ^ KEY;
  collect_and_churn();
  check_obj(mod_get(), 40, "dynamic TLS of a library loaded again");
  check_obj(static_slot, 1, "the main thread's __thread variable");
  return 0;
}
