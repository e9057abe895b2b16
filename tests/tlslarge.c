/* tlslarge.c — a library with a 1 MiB thread-local block, loaded and
 * closed in a loop by world_tls_of_blocking_threads_is_read_safely: the C
 * library allocates each thread's block with malloc on first use (with
 * the test's mmap threshold, a mapping of its own, unmapped when freed). */
__thread char tlslarge_block[1 << 20];
void tlslarge_set(void *p) { *(void **)tlslarge_block = p; }
void *tlslarge_get(void) { return *(void **)tlslarge_block; }
