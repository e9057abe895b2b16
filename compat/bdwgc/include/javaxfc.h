/* javaxfc.h -- compatibility location: the header is <gc/javaxfc.h>. */
#include "gc/javaxfc.h"
