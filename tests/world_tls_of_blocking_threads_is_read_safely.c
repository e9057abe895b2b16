// labels: world threads
/* The collector reads the TLS of a thread in a blocking region while that
 * thread runs.  Its C library may then free one of the thread's TLS
 * blocks: the block of a closed library, still named by the thread's
 * vector under a module id a newly opened library took, freed when the
 * thread next touches thread-local storage (glibc's _dl_update_slotinfo,
 * which takes no lock the collector holds).  The collector asked malloc
 * the size of such a block (malloc_usable_size, which AddressSanitizer
 * reported as a call on a freed block in scan_thread_tls, in
 * world_libraries_close_during_collections) and scanned it after it was
 * unmapped.
 *
 * Here a registered thread in a blocking region opens a library with a
 * 1 MiB TLS block, touches it and closes it, in a loop: each opening
 * takes the module id the last one left, and the thread's touch frees its
 * block of the library before (unmapped at once: the mmap threshold is
 * fixed below the block's size).  Meanwhile the main thread collects
 * without pause; a collection must not crash nor (under AddressSanitizer)
 * report.  Then the thread keeps the library open with an object only
 * its block of it references, and stays in its region while the main
 * thread collects and allocates: the object must survive (a blocking
 * thread's TLS read through copies is still a root). */
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdint.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

static atomic_int stop;
static atomic_long cycles;
static atomic_int phase; /* 1: the object is stored; 2: collections done */

enum { WORDS = 16 };
#define PATTERN(i) (0x5eed0000u + (uintptr_t)(i) * 7919u)

static void *churn(void *arg) {
  (void)arg;
  void *volatile mine = sgc_alloc(64); /* registered */
  (void)mine;
  sgc_enter_blocking();
  while (!atomic_load(&stop)) {
    void *h = dlopen(TLS_LARGE, RTLD_NOW);
    CHECKF(h != NULL, "dlopen: %s", dlerror());
    void (*set)(void *) = (void (*)(void *))dlsym(h, "tlslarge_set");
    set(NULL); /* frees the block of the library opened before */
    CHECK(dlclose(h) == 0);
    atomic_fetch_add(&cycles, 1);
  }
  sgc_exit_blocking();

  void *h = dlopen(TLS_LARGE, RTLD_NOW);
  CHECKF(h != NULL, "dlopen: %s", dlerror());
  void (*set)(void *) = (void (*)(void *))dlsym(h, "tlslarge_set");
  void *(*get)(void) = (void *(*)(void))dlsym(h, "tlslarge_get");
  uintptr_t *obj = sgc_alloc(WORDS * sizeof(uintptr_t));
  for (int i = 0; i < WORDS; i++)
    obj[i] = PATTERN(i);
  set(obj);
  obj = NULL;
  clear_stack();
  sgc_enter_blocking();
  atomic_store(&phase, 1);
  while (atomic_load(&phase) != 2)
    sched_yield();
  sgc_exit_blocking();
  uintptr_t *back = get();
  for (int i = 0; i < WORDS; i++)
    CHECKF(back[i] == PATTERN(i), "word %d of the object only the blocking "
           "thread's TLS held is %#lx: it was freed", i,
           (unsigned long)back[i]);
  set(NULL);
  CHECK(dlclose(h) == 0);
  return NULL;
}

int main(void) {
  /* Blocks of 1 MiB are mapped and unmapped, whatever was freed before
   * (glibc otherwise raises the threshold past the first freed block). */
  mallopt(M_MMAP_THRESHOLD, 128 << 10);
  sgc_init();
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, churn, NULL) == 0);
  long n = scaled(1000); /* the crash came in the first few before the fix */
  for (long i = 0; i < n; i++) {
    void *volatile junk = sgc_alloc(1000);
    (void)junk;
    sgc_collect();
  }
  atomic_store(&stop, 1);
  while (atomic_load(&phase) != 1)
    sched_yield();
  for (int k = 0; k < 5; k++) {
    sgc_collect();
    for (int i = 0; i < 20000; i++) { /* reuses the slots of the freed */
      uintptr_t *volatile junk = sgc_alloc(WORDS * sizeof(uintptr_t));
      junk[0] = 1;
    }
  }
  sgc_collect();
  atomic_store(&phase, 2);
  sgc_enter_blocking();
  pthread_join(t, NULL);
  sgc_exit_blocking();
  printf("%ld collections while a blocking thread opened and closed a "
         "library %ld times\n", n, atomic_load(&cycles));
  return 0;
}
