/* gc.h -- compatibility location: the header is <gc/gc.h>. */
#include "gc/gc.h"
