// labels: gc threads
// env: SPANGC_DEBUG=verify=1
/* gc_threads_random_graphs with the heap verifier on before and after
 * every mark (SPANGC_DEBUG=verify=1), over fewer collections. */
#define NCOLLECTIONS 300
#include "gc_threads_random_graphs.c"
