/* tlsbig.c — a library with a big thread-local block (.tbss only: no file
 * space, and no memory until a thread touches it), loaded by the TLS tests
 * after tlsmodule is closed, so that it may take over its module id. */
__thread char tlsbig_block[64 << 20];
char *tlsbig_addr(void) { return tlsbig_block; }
