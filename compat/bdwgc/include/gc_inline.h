/* gc_inline.h -- compatibility location: the header is <gc/gc_inline.h>. */
#include "gc/gc_inline.h"
