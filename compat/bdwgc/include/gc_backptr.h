/* gc_backptr.h -- compatibility location: the header is <gc/gc_backptr.h>. */
#include "gc/gc_backptr.h"
