// labels: heap threads
/* mspan_is_allocated, asked by another thread (the concurrent marker,
 * sgc_base, sgc_size) while the span's owner moves its allocation cache
 * on to the next word, never calls an allocated slot free.
 *
 * The owner's steps are the real ones: the last allocation of a word
 * stores its cache's bits as 0, and the refill calls mspan_seek_free,
 * which publishes the next word's base (cachebase), then its free bits.
 * The reader asks about a slot of the next word that is allocated there
 * but whose position was free in the word before.  Reading the bits once
 * and cachebase once paired the word before's bits with the next word's
 * base when the owner's stores fell between the reader's two loads: the
 * slot was called free.  That made sgc_size abort on a live object in
 * bdwgc_inline_malloc_words_thread_local_lists (about 1 run in 100), and
 * would make a concurrent marker leave a reachable object unmarked.
 *
 * The window is one instruction wide; a thread preempted there opens it
 * for as long as it is off the CPU.  So both threads share one CPU, the
 * reader at SCHED_IDLE asks without pause, and the owner sleeps for a
 * few microseconds before each move: its wake-up preempts the reader at
 * whatever instruction it is on, and the move is made before the reader
 * runs again.  Each round starts with the cache on word 0 and ends when
 * the reader has seen the move and answered once more (cachebase goes
 * back to 0 only between rounds, as a real span's does only when swept,
 * with no reader inside).  Before the fix, about one round in 10 called
 * the slot free. */
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <time.h>

#include "check.h"
#include "spangc-int.h"

static mspan span;
static atomic_long round_started, round_moved, round_answered;
static atomic_long wrong, asked;
static long rounds;
static cpu_set_t one_cpu;

/* Slot 64 + 5 is allocated; slot 5 of word 0 is free (and so are others
 * on both sides, so the bit patterns of the two words differ). */
#define ASKED (64 + 5)

static void nap(long ns) {
  struct timespec t = {0, ns};
  nanosleep(&t, NULL);
}

static void *reader(void *arg) {
  /* Best effort: without them the window is only hit less often. */
  pthread_setaffinity_np(pthread_self(), sizeof one_cpu, &one_cpu);
  struct sched_param sp = {0};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
  long n = 0;
  for (long r = 1; r <= rounds; r++) {
    while (atomic_load_explicit(&round_started, memory_order_acquire) < r)
      ;
    long moved;
    do {
      moved = atomic_load_explicit(&round_moved, memory_order_acquire);
      if (!mspan_is_allocated(&span, ASKED))
        atomic_fetch_add(&wrong, 1);
      n++;
    } while (moved < r);
    atomic_store_explicit(&round_answered, r, memory_order_release);
  }
  atomic_store(&asked, n);
  return NULL;
}

int main(void) {
  span.nelems = 256;
  span.allocbits[0] = 0x5555555555555555u & ~((uint64_t)1 << 5 | 1 << 7);
  span.allocbits[1] = 0xaaaaaaaaaaaaaaaau | (uint64_t)1 << 5;
  span.allocbits[2] = ~(uint64_t)0;
  span.allocbits[3] = ~(uint64_t)0;
  rounds = scaled(5000);
  prctl(PR_SET_TIMERSLACK, 1UL);
  CPU_ZERO(&one_cpu);
  CPU_SET(sched_getcpu() >= 0 ? sched_getcpu() : 0, &one_cpu);
  pthread_setaffinity_np(pthread_self(), sizeof one_cpu, &one_cpu);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, reader, NULL) == 0);
  for (long r = 1; r <= rounds; r++) {
    CHECK(mspan_seek_free(&span, 0) && span.cachebase == 0);
    atomic_store_explicit(&round_started, r, memory_order_release);
    nap(20000);
    /* The word used up (alloc_small's store), then the refill. */
    ATOMIC_STORE(&span.alloccache, 0);
    CHECK(mspan_seek_free(&span, 1) && span.cachebase == 64);
    atomic_store_explicit(&round_moved, r, memory_order_release);
    while (atomic_load_explicit(&round_answered, memory_order_acquire) < r)
      nap(20000); /* the reader runs only while the owner sleeps */
  }
  CHECK(pthread_join(t, NULL) == 0);
  CHECKF(atomic_load(&wrong) == 0, "slot %d, allocated, was called free "
         "%ld times in %ld rounds", ASKED, atomic_load(&wrong), rounds);
  printf("%ld rounds, %ld answers: the allocated slot was always called "
         "allocated\n", rounds, atomic_load(&asked));
  return 0;
}
