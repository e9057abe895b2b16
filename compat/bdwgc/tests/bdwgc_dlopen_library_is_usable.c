/* dlopen (redirected to GC_dlopen) loads libm, whose functions work, while
 * collections keep every object intact, also with another thread allocating
 * during the load. */
// labels: bdwgc threads
#include <gc.h>
#include <dlfcn.h>
#include "bdwgc_check.h"

#define NKEEP 1000
char *kept[NKEEP];
int stop;

static void *allocator(void *arg) {
  while (!__atomic_load_n(&stop, __ATOMIC_SEQ_CST))
    for (int i = 0; i < 1000; i++) CHECK(GC_malloc(80) != NULL, "garbage");
  return NULL;
}

int main(void) {
  GC_INIT();
  for (int i = 0; i < NKEEP / 2; i++) {
    kept[i] = GC_malloc(100);
    CHECK(kept[i] != NULL, "allocation");
    fill_pattern(kept[i], 100, i);
  }
  pthread_t t;
  CHECK(pthread_create(&t, NULL, allocator, NULL) == 0, "pthread_create");
  void *h = dlopen("libm.so.6", RTLD_NOW);
  CHECK(h != NULL, "dlopen(libm.so.6) failed: %s", dlerror());
  void *h2 = GC_dlopen("libm.so.6", RTLD_NOW | RTLD_GLOBAL);
  CHECK(h2 != NULL, "GC_dlopen(libm.so.6) failed: %s", dlerror());
  double (*cosine)(double) = (double (*)(double))dlsym(h, "cos");
  CHECK(cosine != NULL, "dlsym(cos) failed");
  CHECK(cosine(0.0) == 1.0, "cos(0) from the loaded libm is not 1");
  for (int i = NKEEP / 2; i < NKEEP; i++) {
    kept[i] = GC_malloc(100);
    CHECK(kept[i] != NULL, "allocation");
    fill_pattern(kept[i], 100, i);
  }
  for (int r = 0; r < 20; r++) {
    GC_gcollect();
    for (int i = 0; i < NKEEP; i++)
      CHECK(check_pattern(kept[i], 100, i) < 0, "object %d changed", i);
  }
  __atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
  CHECK(pthread_join(t, NULL) == 0, "pthread_join");
  dlclose(h2);
  dlclose(h);
  GC_gcollect();
  for (int i = 0; i < NKEEP; i++)
    CHECK(check_pattern(kept[i], 100, i) < 0, "object %d changed", i);
  PASS("bdwgc_dlopen_library_is_usable");
}
