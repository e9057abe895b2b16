// labels: gc threads
// env: SPANGC_DEBUG=verify=1
/* conc_stale_pointers_to_freed_memory_are_tolerated with the verifier on:
 * every final stop of a concurrent collection is compared with a full
 * mark, which follows the stale pointers; what it finds only through them
 * (objects in freed memory) is forgiven, in every mode. */
#include "conc_stale_pointers_to_freed_memory_are_tolerated.c"
