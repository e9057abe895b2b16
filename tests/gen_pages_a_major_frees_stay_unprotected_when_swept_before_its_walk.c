// labels: gc
/* The scenario of gen_pages_a_major_protects_stay_protected_after_its_restart
 * with the sweep done, every span of it, after the restart and before the
 * walk that chooses the pages to unprotect (the test hook): the spans the
 * first major's sweep freed whole (every object on them dead) must have
 * their pages unprotected like an in-use span's with a free slot, or the
 * refill faults on them and the second major takes them for hot pages
 * and leaves them unprotected (0 faults of 1000 expected: the walk, moved
 * after the restart, met spans the background sweeper had freed first,
 * 2 runs in 30). */
#define SWEEP_BEFORE_THE_WALK 1
#include "gen_pages_a_major_protects_stay_protected_after_its_restart.c"
