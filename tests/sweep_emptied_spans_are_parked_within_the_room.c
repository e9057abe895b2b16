// labels: gc
/* A span its sweep empties stays with its class for the next refill
 * (rule:parked-spans-bounded) instead of a round trip through the heap,
 * whose lock the sweeper and the refill both took for it.  Checked:
 * (1) a program allocating garbage of one class beside a live set gets
 *     spans parked, never more pages than the room to the next goal;
 * (2) its refills take them (the count falls) and what they hand out is
 *     zeroed, though the spans held that class's garbage;
 * (3) a parked span no refill took is given back at the next cycle's
 *     sweep: after two collections with no allocation, nothing is parked;
 *     and sgc_release_memory gives every parked span back at once;
 * (4) with a memory limit (free pages must be where the limit can release
 *     them) nothing is parked; run again as a child with SPANGC_MEMLIMIT;
 * (6) a program that stops allocating gets its parked spans back in the
 *     heap from the scavenger thread after its delay (a child with
 *     SPANGC_SCAVENGE_MS=50: within 2 s);
 * (5) the live set is intact. */
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "gctest.h"
#include "nopreempt.h"

#define LIVE 60000 /* 64-byte objects: ~4 MB live */
#define GARBAGE 48

/* The pages parked and the room, read together in one region (the room
 * is exact only there: a collection between the two reads would give the
 * parked spans back and open a generation with another room). */
static uint64_t parked_room(uint64_t *room) {
  uint64_t parked;
  NP((parked = sweep_parked_pages(), *room = sweep_park_room()));
  return parked;
}

static void wait_swept(void) {
  struct timespec ts = {0, 1000000};
  for (int i = 0; i < 2000 && !sweep_done(); i++)
    nanosleep(&ts, NULL);
  sweep_complete();
}

/* Garbage of one class, filled with a pattern, until 'n' more automatic
 * collections ran; returns the most pages seen parked meanwhile.  (While
 * a generation is being swept, spans parked in the previous one may
 * still be parked, so the cap is checked only once a sweep is done:
 * then every parked span was parked within this generation's cap.) */
static uint64_t churn(int n) {
  sgc_stats a, b;
  sgc_read_stats(&a);
  uint64_t most = 0;
  for (long i = 0;; i++) {
    unsigned char *g = sgc_alloc_noscan(GARBAGE);
    CHECK(g != NULL);
    memset(g, 0xab, GARBAGE);
    if ((i & 4095) == 0) {
      uint64_t parked = sweep_parked_pages();
      if (parked > most)
        most = parked;
      sgc_read_stats(&b);
      if (b.num_gc >= a.num_gc + (uint64_t)n)
        break;
    }
  }
  return most;
}

static int child_with_limit(void) {
  sgc_init();
  void **live = calloc(LIVE, sizeof *live);
  CHECK(live != NULL && sgc_add_roots(live, live + LIVE) == 0);
  for (long i = 0; i < LIVE; i++)
    CHECK((live[i] = sgc_alloc(64)) != NULL);
  uint64_t most = churn(4);
  wait_swept();
  most = most > sweep_parked_pages() ? most : sweep_parked_pages();
  CHECKF(most == 0, "%llu pages parked with a memory limit set",
         (unsigned long long)most);
  return 0;
}

static int child_idle(void) {
  sgc_init();
  void **live = calloc(LIVE, sizeof *live);
  CHECK(live != NULL && sgc_add_roots(live, live + LIVE) == 0);
  for (long i = 0; i < LIVE; i++)
    CHECK((live[i] = sgc_alloc(64)) != NULL);
  churn(3);
  wait_swept();
  uint64_t parked = sweep_parked_pages();
  struct timespec ts = {0, 10000000};
  int waited = 0;
  while (sweep_parked_pages() != 0 && waited < 200) {
    nanosleep(&ts, NULL);
    waited++;
  }
  printf("idle: %llu pages parked, %llu after %d ms\n",
         (unsigned long long)parked, (unsigned long long)sweep_parked_pages(),
         waited * 10);
  CHECKF(parked > 0, "nothing parked to give back");
  CHECKF(sweep_parked_pages() == 0, "%llu pages still parked after 2 s idle",
         (unsigned long long)sweep_parked_pages());
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "limit") == 0)
    return child_with_limit();
  if (argc > 1 && strcmp(argv[1], "idle") == 0)
    return child_idle();
  sgc_init();
  long **live = calloc(LIVE, sizeof *live);
  CHECK(live != NULL && sgc_add_roots(live, live + LIVE) == 0);
  for (long i = 0; i < LIVE; i++) {
    live[i] = sgc_alloc(64);
    CHECK(live[i] != NULL);
    live[i][0] = i;
  }

  /* (1) */
  uint64_t most = churn(4);
  wait_swept();
  uint64_t room, parked = parked_room(&room);
  printf("most parked while allocating: %llu pages; after the sweep: %llu "
         "(room %llu)\n",
         (unsigned long long)most, (unsigned long long)parked,
         (unsigned long long)room);
  CHECKF(parked > 0 || most > 0, "no span was ever parked");
  CHECK(parked <= room);
  /* More of the class dies at once than the room: 6 MB of it, kept
   * through two collections, then dropped.  Once the whole generation is
   * swept, every span still parked was parked in it, within the cap. */
  long ntemp = (6 << 20) / GARBAGE;
  void **temp = calloc((size_t)ntemp, sizeof *temp);
  CHECK(temp != NULL && sgc_add_roots(temp, temp + ntemp) == 0);
  for (long i = 0; i < ntemp; i++)
    CHECK((temp[i] = sgc_alloc_noscan(GARBAGE)) != NULL);
  churn(2);
  memset(temp, 0, (size_t)ntemp * sizeof *temp);
  sgc_collect();
  wait_swept();
  parked = parked_room(&room);
  printf("after 6 MB of the class died: %llu pages parked (room %llu)\n",
         (unsigned long long)parked, (unsigned long long)room);
  CHECKF(parked <= room, "%llu pages parked over the room %llu",
         (unsigned long long)parked, (unsigned long long)room);
  churn(2);
  wait_swept();
  parked = parked_room(&room);
  CHECK(parked <= room);
  sgc_remove_roots(temp, temp + ntemp);
  free(temp);

  /* (2): the garbage class's refills take the parked spans. */
  if (parked > 0) {
    uint64_t before = parked;
    long taken = 0;
    for (long i = 0; i < 200000 && sweep_parked_pages() >= before; i++) {
      unsigned char *p = sgc_alloc(GARBAGE);
      CHECK(p != NULL);
      for (int j = 0; j < GARBAGE; j++)
        CHECKF(p[j] == 0, "object %p from a refill not zeroed at byte %d",
               (void *)p, j);
      taken++;
    }
    CHECKF(sweep_parked_pages() < before,
           "%ld allocations of the class took none of its %llu parked pages",
           taken, (unsigned long long)before);
    /* and what follows, taken from parked spans, is zeroed too */
    for (long i = 0; i < 4096; i++) {
      unsigned char *p = sgc_alloc(GARBAGE);
      CHECK(p != NULL);
      for (int j = 0; j < GARBAGE; j++)
        CHECK(p[j] == 0);
    }
  }

  /* (3) */
  churn(2);
  wait_swept();
  uint64_t before_release = sweep_parked_pages();
  size_t released = sgc_release_memory();
  printf("sgc_release_memory with %llu pages parked: %zu bytes released, "
         "%llu pages parked after\n",
         (unsigned long long)before_release, released,
         (unsigned long long)sweep_parked_pages());
  CHECKF(sweep_parked_pages() == 0,
         "%llu pages still parked after sgc_release_memory",
         (unsigned long long)sweep_parked_pages());
  CHECK(before_release == 0 || released >= before_release * PAGE_SIZE);
  sgc_collect();
  wait_swept();
  sgc_collect();
  wait_swept();
  CHECKF(sweep_parked_pages() == 0,
         "%llu pages still parked after a cycle without allocation",
         (unsigned long long)sweep_parked_pages());

  /* (5) */
  for (long i = 0; i < LIVE; i++)
    CHECKF(live[i][0] == i, "live object %ld damaged", i);

  /* (4) */
  static char out[8192];
  setenv("SPANGC_MEMLIMIT", "1G", 1);
  int st = run_self(argv[0], "limit", out, sizeof out);
  unsetenv("SPANGC_MEMLIMIT");
  CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child with a limit: %s", out);
  /* (6) */
  setenv("SPANGC_SCAVENGE_MS", "50", 1);
  st = run_self(argv[0], "idle", out, sizeof out);
  unsetenv("SPANGC_SCAVENGE_MS");
  CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "idle child: %s", out);
  sgc_remove_roots(live, live + LIVE);
  return 0;
}
