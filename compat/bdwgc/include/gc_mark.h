/* gc_mark.h -- compatibility location: the header is <gc/gc_mark.h>. */
#include "gc/gc_mark.h"
