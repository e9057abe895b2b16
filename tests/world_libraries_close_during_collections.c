// labels: gc threads
/* Libraries come and go while collections run.
 *   - Threads the stop does not reach (a plain thread that never
 *     allocates, and a registered one inside a blocking region) dlopen and
 *     dlclose a library in a loop while the main thread collects: the
 *     collector holds the loader's lock from stop to restart, so it never
 *     scans the data segments or TLS blocks of a library unmapped meanwhile.
 *   - A library whose TLS block the main thread touched is closed and a
 *     library with a much bigger TLS block is opened (it may take the same
 *     module id while the main thread's vector still names the old, small
 *     block): collections read no further than the old block. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

static atomic_int stop;

static void churn_libraries(void) {
  while (!atomic_load(&stop)) {
    void *h = dlopen(TLS_MODULE, RTLD_NOW);
    CHECKF(h != NULL, "dlopen: %s", dlerror());
    void (*set)(void *) = (void (*)(void *))dlsym(h, "tlsmodule_set");
    set(NULL); /* allocate this thread's block */
    CHECK(dlclose(h) == 0);
  }
}

static void *plain(void *arg) {
  churn_libraries();
  return NULL;
}

static void *blocking(void *arg) {
  void *volatile mine = sgc_alloc(64); /* registered */
  (void)mine;
  sgc_enter_blocking();
  churn_libraries();
  sgc_exit_blocking();
  return NULL;
}

int main(void) {
  sgc_init();
  pthread_t a, b;
  CHECK(pthread_create(&a, NULL, plain, NULL) == 0);
  CHECK(sgc_pthread_create(&b, NULL, blocking, NULL) == 0);
  long n = scaled(3000);
  for (long i = 0; i < n; i++) {
    void *volatile junk = sgc_alloc(1000);
    (void)junk;
    sgc_collect();
  }
  atomic_store(&stop, 1);
  sgc_enter_blocking();
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  sgc_exit_blocking();

  /* A stale vector entry and a bigger library under the same id. */
  void *h = dlopen(TLS_MODULE, RTLD_NOW);
  CHECK(h != NULL);
  void (*set)(void *) = (void (*)(void *))dlsym(h, "tlsmodule_set");
  set(sgc_alloc(64));
  size_t id1 = 0, id2 = 0;
  CHECK(dlinfo(h, RTLD_DI_TLS_MODID, &id1) == 0);
  CHECK(dlclose(h) == 0);
  void *big = dlopen(TLS_BIG, RTLD_NOW);
  CHECKF(big != NULL, "dlopen: %s", dlerror());
  CHECK(dlinfo(big, RTLD_DI_TLS_MODID, &id2) == 0);
  for (int i = 0; i < 3; i++)
    sgc_collect();
  printf("%ld collections while libraries came and went; module ids %zu "
         "then %zu\n", n, id1, id2);
  return 0;
}
