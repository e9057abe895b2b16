// labels: gc threads
/* A program that allocates without freeing runs in bounded memory: 2 GB
 * of 1 KiB objects dropped at once stay within a small heap, while a
 * list kept reachable survives intact. */
#include "check.h"
#include "spangc-int.h"

typedef struct node { struct node *next; long value; } node;

int main(void) {
  sgc_init();
  node *keep = NULL;
  for (long i = 0; i < 1000; i++) {
    node *n = sgc_alloc(sizeof *n);
    n->next = keep;
    n->value = i;
    keep = n;
  }
  long total = scaled(2L << 30);
  for (long done = 0; done < total; done += 1024) {
    char *p = sgc_alloc(1024);
    CHECK(p != NULL);
    p[0] = 1;
  }
  sgc_stats st;
  sgc_read_stats(&st);
  printf("%llu collections, heap spans %llu MB\n",
         (unsigned long long)st.num_gc,
         (unsigned long long)(st.heap_span_bytes >> 20));
  CHECK(st.num_gc > 0);
  CHECKF(st.heap_span_bytes < (256u << 20), "%llu bytes",
         (unsigned long long)st.heap_span_bytes);
  long i = 999;
  for (node *n = keep; n; n = n->next, i--)
    CHECK(n->value == i);
  CHECK(i == -1);
  return 0;
}
