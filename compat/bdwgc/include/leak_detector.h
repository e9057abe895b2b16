/* leak_detector.h -- compatibility location: the header is <gc/leak_detector.h>. */
#include "gc/leak_detector.h"
