/* gc_pthread_redirects.h -- compatibility location: the header is <gc/gc_pthread_redirects.h>. */
#include "gc/gc_pthread_redirects.h"
