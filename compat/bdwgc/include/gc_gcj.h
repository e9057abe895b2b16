/* gc_gcj.h -- compatibility location: the header is <gc/gc_gcj.h>. */
#include "gc/gc_gcj.h"
