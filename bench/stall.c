/* stall — how long this machine holds up one thread's short steps, with
 * and without a second busy thread in the process.  No collector in it.
 *
 * The pause test's worst push with concurrent marking is a push that
 * stalled while the collector's thread was busy on the other CPU.  This
 * program measures that floor for any program: thread A takes steps and
 * times each one, while thread B is absent ("alone") or spins on the other
 * CPU without a system call or a memory access ("beside a busy thread").
 * Two kinds of step:
 *   compute  a short loop, a few microseconds (no memory, no system
 *            call);
 *   fault    the first write to a fresh page of anonymous memory (a page
 *            fault: on a virtual machine whose page-table updates trap to
 *            the host, as here, one trap each).
 * On a machine whose host runs each virtual CPU when it asks, both columns
 * look alike; where the host shares its CPUs, the busy column shows steps
 * of milliseconds, which no collector running beside the program can stay
 * under.  Rounds alternate alone and beside; prints, per kind and setting,
 * the median over ROUNDS of each round's worst step and count of steps
 * over 1 ms, and the worst step of all rounds.
 *
 * Usage: stall [ROUNDS [FAULT_MB]]   (defaults 3, 1024)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define COMPUTE_STEPS 200000
#define MAX_ROUNDS 15

static volatile int stop_b;

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void *spin(void *arg) {
  (void)arg;
  volatile unsigned long c = 0;
  while (!stop_b)
    c++;
  return NULL;
}

typedef struct {
  double worst_ms;
  long over_1ms;
  double mean_us;
} result;

/* One round of steps of the given kind; *r gets the worst and the count. */
static int round_of(int fault, size_t fault_bytes, result *r) {
  char *m = NULL;
  long n = COMPUTE_STEPS;
  if (fault) {
    m = mmap(NULL, fault_bytes, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      perror("stall: mmap");
      return -1;
    }
    madvise(m, fault_bytes, MADV_NOHUGEPAGE); /* one fault a 4 KiB page */
    n = (long)(fault_bytes / 4096);
  }
  double worst = 0, total = 0;
  long over = 0;
  for (long i = 0; i < n; i++) {
    double t = now_us();
    if (fault) {
      m[(size_t)i * 4096] = 1;
    } else {
      for (volatile int k = 0; k < 4000; k++) {
      }
    }
    double d = now_us() - t;
    total += d;
    if (d > worst)
      worst = d;
    if (d > 1000)
      over++;
  }
  if (m)
    munmap(m, fault_bytes);
  r->worst_ms = worst / 1000;
  r->over_1ms = over;
  r->mean_us = total / (double)n;
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 3;
  size_t mb = argc > 2 ? (size_t)atol(argv[2]) : 1024;
  if (rounds < 1 || rounds > MAX_ROUNDS || mb < 1) {
    fprintf(stderr, "usage: stall [ROUNDS (1-%d) [FAULT_MB]]\n", MAX_ROUNDS);
    return 2;
  }
  static const char *kinds[2] = {"compute steps",
                                 "first writes to fresh pages"};
  static const char *settings[2] = {"alone", "beside a busy thread"};
  result res[2][2][MAX_ROUNDS];
  for (int r = 0; r < rounds; r++)
    for (int kind = 0; kind < 2; kind++)
      for (int busy = 0; busy < 2; busy++) {
        pthread_t b;
        stop_b = 0;
        if (busy && pthread_create(&b, NULL, spin, NULL) != 0) {
          fprintf(stderr, "stall: cannot create a thread\n");
          return 1;
        }
        int rc = round_of(kind, mb << 20, &res[kind][busy][r]);
        stop_b = 1;
        if (busy)
          pthread_join(b, NULL);
        if (rc != 0)
          return 1;
      }
  printf("stall: %d rounds, alone and beside a busy thread alternated\n",
         rounds);
  for (int kind = 0; kind < 2; kind++) {
    printf("%s (%s):", kinds[kind],
           kind ? "one 4 KiB page each" : "200000 a round");
    for (int busy = 0; busy < 2; busy++) {
      double w[MAX_ROUNDS], o[MAX_ROUNDS], all = 0, mean = 0;
      for (int r = 0; r < rounds; r++) {
        mean += res[kind][busy][r].mean_us / rounds;
        w[r] = res[kind][busy][r].worst_ms;
        o[r] = (double)res[kind][busy][r].over_1ms;
        if (w[r] > all)
          all = w[r];
      }
      qsort(w, (size_t)rounds, sizeof w[0], cmp_double);
      qsort(o, (size_t)rounds, sizeof o[0], cmp_double);
      printf("%s %s: mean step %.1f us, worst step %.2f ms (median; %.2f "
             "of all), %.0f over 1 ms",
             busy ? ";" : "", settings[busy], mean, w[rounds / 2], all,
             o[rounds / 2]);
    }
    printf("\n");
  }
  return 0;
}
