/* tlsmodule.c — a library the TLS test loads with dlopen: its
 * thread-local slot lives in a block the C library allocates in each
 * thread on first use (dynamic TLS). */
static __thread void *slot;
static __thread char pad[3000]; /* a block bigger than a word */

void tlsmodule_set(void *p) {
  pad[0] = 1;
  slot = p;
}
void *tlsmodule_get(void) { return slot; }
