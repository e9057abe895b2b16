/* A program linked with the installed libspangc.a that defines globals
 * and functions under names the runtime uses inside (world, gc, work,
 * page_state, allthreads, collect, drain, scan_range): with the archive of
 * the runtime's objects as they were, this failed to link ("multiple
 * definition of `world'").  It must link, and each side must keep its
 * own: the program's variables keep their values across collections,
 * and the runtime keeps a list alive. */
#include <stdio.h>
#include <stdlib.h>

#include "spangc.h"

int world = 7;
long gc[4] = {1, 2, 3, 4};
char work[64] = "the program's work";
int page_state;
void *allthreads;

int collect(int x) { return x + 1; }
int drain(int x) { return x * 2; }
void scan_range(int *p) { *p = 42; }

typedef struct node { struct node *next; long v; } node;

int main(void) {
  sgc_init();
  node *keep = NULL;
  for (long i = 0; i < 100000; i++) {
    node *n = sgc_alloc(sizeof *n);
    if (n == NULL) {
      fprintf(stderr, "sgc_alloc failed\n");
      return 1;
    }
    n->v = i;
    if (i % 100 == 0) {
      n->next = keep;
      keep = n;
    }
    page_state++;
  }
  sgc_collect();
  sgc_collect();
  long expect = 99900, count = 0;
  for (node *n = keep; n; n = n->next, expect -= 100, count++)
    if (n->v != expect) {
      fprintf(stderr, "node %ld holds %ld, expected %ld\n", count, n->v,
              expect);
      return 1;
    }
  int s = 0;
  scan_range(&s);
  if (world != 7 || gc[3] != 4 || work[0] != 't' || page_state != 100000 ||
      allthreads != NULL || collect(1) != 2 || drain(2) != 4 || s != 42 ||
      count != 1000) {
    fprintf(stderr, "the program's own names were changed\n");
    return 1;
  }
  printf("libspangc.a linked beside the program's own world, gc, work, ...; "
         "%ld nodes kept\n", count);
  return 0;
}
