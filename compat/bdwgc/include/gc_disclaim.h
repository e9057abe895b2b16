/* gc_disclaim.h -- compatibility location: the header is <gc/gc_disclaim.h>. */
#include "gc/gc_disclaim.h"
