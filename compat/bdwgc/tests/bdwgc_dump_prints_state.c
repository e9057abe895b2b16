/* GC_dump prints the collector's state (on stdout or stderr) and the program
 * continues normally afterwards. */
// labels: bdwgc
#include <gc.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bdwgc_check.h"

char *kept[100];

int main(void) {
  GC_INIT();
  for (int i = 0; i < 100; i++) {
    kept[i] = GC_malloc(50 + i * 10);
    CHECK(kept[i] != NULL, "allocation");
    fill_pattern(kept[i], 50 + i * 10, i);
  }
  GC_gcollect();

  char path[] = "/tmp/bdwgc_dump_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0, "mkstemp");
  unlink(path);
  fflush(stdout);
  fflush(stderr);
  int saved_out = dup(1), saved_err = dup(2);
  CHECK(saved_out >= 0 && saved_err >= 0, "dup");
  dup2(fd, 1);
  dup2(fd, 2);
  GC_dump();
  fflush(stdout);
  fflush(stderr);
  dup2(saved_out, 1);
  dup2(saved_err, 2);
  close(saved_out);
  close(saved_err);
  struct stat st;
  CHECK(fstat(fd, &st) == 0, "fstat");
  close(fd);
  CHECK(st.st_size > 0, "GC_dump wrote nothing to stdout or stderr");
  printf("GC_dump wrote %lld bytes\n", (long long)st.st_size);

  GC_gcollect();
  for (int i = 0; i < 100; i++)
    CHECK(check_pattern(kept[i], 50 + i * 10, i) < 0, "object changed");
  PASS("bdwgc_dump_prints_state");
}
