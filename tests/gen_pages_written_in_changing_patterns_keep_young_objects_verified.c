// labels: gc
// env: SPANGC_DEBUG=verify=1
/* gen_pages_written_in_changing_patterns_keep_young_objects with the heap
 * verifier on (SPANGC_DEBUG=verify=1): every minor collection is compared
 * with a full mark, so a young object a minor would miss is reported in
 * the collection that misses it. */
#include "gen_pages_written_in_changing_patterns_keep_young_objects.c"
