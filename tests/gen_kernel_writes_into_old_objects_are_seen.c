// labels: gc
/* Generational collection: memory written by the kernel counts as written.
 * Old objects (made old by a collection) have their pointer fields
 * overwritten by read(2) from a pipe, recv(2) on a socketpair and readv(2)
 * (one call scattering into two old objects), with the bytes of pointers
 * to young objects.  Each young object is kept by a root until the system
 * call returned; then the root is dropped and the stack cleared, so only
 * the old object (written by the kernel, never by a store of the program)
 * keeps it.  The young objects must survive several minor collections
 * intact (exact), and minors must run when generations are on.
 * Catches: a write by the kernel not listed as written, scan_dirty not
 * scanning written pages. */
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define NOLD 600
#define NW 12 /* 96 bytes: a size class of their own, so that no store of
                 the program (young objects, garbage) writes their pages */
#define ROUNDS 6

typedef struct old {
  void *w[NW];
} old;

old *volatile g_old[NOLD];
void *volatile g_keep[NOLD]; /* roots until the system call returned */
static uint64_t *tags;       /* malloc'ed: tag of g_old[i]->w[j] */
static int pfd[2], sfd[2];

__attribute__((noinline)) static void make_old(void) {
  for (int i = 0; i < NOLD; i++) {
    g_old[i] = sgc_alloc(sizeof(old));
    CHECK(g_old[i] != NULL);
  }
}

/* The kernel writes y's address into slot j of old object i; which call
 * depends on i. */
__attribute__((noinline)) static void kernel_store(int i, int j, int r) {
  void *y = (void *)g_keep[i];
  old *o = g_old[i];
  switch ((i + r) % 3) {
  case 0:
    CHECK(write(pfd[1], &y, sizeof y) == sizeof y);
    CHECK(read(pfd[0], &o->w[j], sizeof y) == sizeof y);
    break;
  case 1:
    CHECK(send(sfd[1], &y, sizeof y, 0) == sizeof y);
    CHECK(recv(sfd[0], &o->w[j], sizeof y, MSG_WAITALL) == sizeof y);
    break;
  case 2: {
    /* One readv: the first half of the pointer's bytes into slot j, the
     * second half into the same slot through a second iovec. */
    CHECK(write(pfd[1], &y, sizeof y) == sizeof y);
    struct iovec iov[2] = {{(char *)&o->w[j], 3},
                           {(char *)&o->w[j] + 3, sizeof y - 3}};
    CHECK(readv(pfd[0], iov, 2) == sizeof y);
    break;
  }
  }
}

__attribute__((noinline)) static void round_store(int r) {
  int j = r % NW;
  for (int i = 0; i < NOLD; i++) {
    uint64_t tag = 0x4b00000000000000ull | ((uint64_t)r << 32) |
                   ((uint64_t)i << 8) | (uint64_t)j;
    tags[i * NW + j] = tag;
    g_keep[i] = tagged_new(tag);
  }
  for (int i = 0; i < NOLD; i++)
    kernel_store(i, j, r);
  for (int i = 0; i < NOLD; i++) {
    CHECK(g_old[i]->w[j] == g_keep[i]);
    g_keep[i] = NULL;
  }
}

__attribute__((noinline)) static void check_all(const char *when) {
  static const char *how[3] = {"read", "recv", "readv"};
  for (int i = 0; i < NOLD; i++)
    for (int j = 0; j < NW; j++) {
      uint64_t tag = tags[i * NW + j];
      if (tag == 0)
        continue;
      int r = (int)((tag >> 32) & 0xffff);
      CHECKF(tagged_intact(g_old[i]->w[j], tag),
             "%s: old object %d slot %d, written by %s in round %d, lost "
             "its young object %p", when, i, j, how[(i + r) % 3], r,
             g_old[i]->w[j]);
    }
}

int main(void) {
  sgc_init();
  CHECK(pipe(pfd) == 0);
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sfd) == 0);
  tags = calloc(NOLD * NW, sizeof *tags);
  CHECK(tags != NULL);
  make_old();
  clear_stack();
  sgc_collect(); /* old now */
  int gen = generational();
  uint64_t minors = 0;
  for (int r = 0; r < ROUNDS; r++) {
    round_store(r);
    clear_stack();
    minors += run_minors(3);
    check_all("after minor collections");
  }
  printf("%d rounds of kernel writes into %d old objects, %llu minor "
         "collections (generational %d)\n", ROUNDS, NOLD,
         (unsigned long long)minors, gen);
  if (gen)
    CHECKF(minors >= ROUNDS, "only %llu minor collections ran",
           (unsigned long long)minors);
  sgc_collect();
  check_all("after a major collection");
  return 0;
}
