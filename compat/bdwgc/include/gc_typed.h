/* gc_typed.h -- compatibility location: the header is <gc/gc_typed.h>. */
#include "gc/gc_typed.h"
