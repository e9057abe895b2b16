// labels: gc threads
// env: SPANGC_DEBUG=verify=1
/* conc_descriptors_closed_during_the_mark_keep_objects with the heap
 * verifier on (SPANGC_DEBUG=verify=1): every final stop of a concurrent
 * collection is compared with a full mark, so an object the final stop
 * would have missed is reported in the cycle it is missed. */
#include "conc_descriptors_closed_during_the_mark_keep_objects.c"
