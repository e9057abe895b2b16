/* wpcost — what the kernel's write tracking costs on this machine.
 *
 * The protection policy (src/genprotect.c) trades two costs: a
 * UFFDIO_WRITEPROTECT call (page tables changed, the TLB flushed, on
 * every CPU that runs one of the process's threads) against a fault on a
 * protected page the program writes (resolved inside the kernel in
 * asynchronous mode).  Protecting a few unwanted pages with their
 * neighbours saves calls and costs a fault on each of them the program
 * writes.  This program measures both, the way the collector meets them:
 *   call   one-page protect calls, one after the other (the pages apart,
 *          so that each is a call of its own), with no other thread of
 *          the process running, and with one spinning on another CPU
 *          (what a collection's calls meet after the world restarts, or
 *          from a thread of the program outside the stop);
 *   fault  the first write to each of a run of protected pages;
 *   range  one call over the whole area (per page).
 * Medians of REPS rounds of NPAGES pages each, in microseconds.
 * Prints "wpcost: unsupported (...)" and exits 0 where the kernel lacks
 * asynchronous write protection (before Linux 6.7, or refused).
 *
 * The definitions Debian 12's headers lack are carried here as in
 * src/dirty.c (this program does not link spangc).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FEATURE_WP_UNPOPULATED ((uint64_t)1 << 13)
#define FEATURE_WP_ASYNC ((uint64_t)1 << 15)
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#define NPAGES 2048
#define REPS 9
#define KPAGE 4096

static int uffd = -1;
static volatile int spinning;

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void protect(char *p, size_t len, int on) {
  struct uffdio_writeprotect w = {
      .range = {.start = (uintptr_t)p, .len = len},
      .mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0};
  while (ioctl(uffd, UFFDIO_WRITEPROTECT, &w) != 0) {
    if (errno != EINTR) {
      fprintf(stderr, "wpcost: UFFDIO_WRITEPROTECT: %s\n", strerror(errno));
      exit(1);
    }
  }
}

static void *spin(void *arg) {
  (void)arg;
  while (spinning)
    __asm__ volatile("" ::: "memory");
  return NULL;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
static double median(double *v, int n) {
  qsort(v, n, sizeof *v, cmp);
  return v[n / 2];
}

/* One round of each measure over area a (2 * NPAGES pages, populated). */
static void round_of(char *a, double *call, double *fault, double *range) {
  size_t len = (size_t)2 * NPAGES * KPAGE;
  protect(a, len, 0);
  double t0 = now_us();
  for (size_t i = 0; i < NPAGES; i++)
    protect(a + 2 * i * KPAGE, KPAGE, 1);
  *call = (now_us() - t0) / NPAGES;
  protect(a, len, 0);
  t0 = now_us();
  protect(a, len, 1);
  *range = (now_us() - t0) / (2 * NPAGES);
  t0 = now_us();
  for (size_t i = 0; i < NPAGES; i++)
    ((volatile char *)a)[2 * i * KPAGE] = 2;
  *fault = (now_us() - t0) / NPAGES;
}

int main(void) {
  uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
  struct uffdio_api api = {.api = UFFD_API,
                           .features = FEATURE_WP_ASYNC |
                                       FEATURE_WP_UNPOPULATED};
  if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) != 0) {
    printf("wpcost: unsupported (userfaultfd with asynchronous write "
           "protection: %s)\n", strerror(errno));
    return 0;
  }
  size_t len = (size_t)2 * NPAGES * KPAGE;
  char *a = mmap(NULL, len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) {
    perror("wpcost: mmap");
    return 1;
  }
  struct uffdio_register reg = {
      .range = {.start = (uintptr_t)a, .len = len},
      .mode = UFFDIO_REGISTER_MODE_WP};
  if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0) {
    printf("wpcost: unsupported (UFFDIO_REGISTER: %s)\n", strerror(errno));
    return 0;
  }
  memset(a, 1, len);

  double call[2][REPS], fault[2][REPS], range[2][REPS];
  for (int other = 0; other < 2; other++) {
    pthread_t t;
    if (other) {
      spinning = 1;
      if (pthread_create(&t, NULL, spin, NULL) != 0) {
        perror("wpcost: pthread_create");
        return 1;
      }
      usleep(20000); /* let it reach its CPU */
    }
    for (int r = 0; r < REPS; r++)
      round_of(a, &call[other][r], &fault[other][r], &range[other][r]);
    if (other) {
      spinning = 0;
      pthread_join(t, NULL);
    }
  }
  double c0 = median(call[0], REPS), c1 = median(call[1], REPS);
  double f0 = median(fault[0], REPS), f1 = median(fault[1], REPS);
  double r0 = median(range[0], REPS);
  printf("wpcost: call_us=%.2f call_other_cpu_us=%.2f fault_us=%.2f "
         "fault_other_cpu_us=%.2f range_per_page_us=%.3f cpus=%ld\n",
         c0, c1, f0, f1, r0, sysconf(_SC_NPROCESSORS_ONLN));
  printf("  one-page protect call: %.1f us alone, %.1f us with a thread "
         "of the process running on another CPU\n", c0, c1);
  printf("  first write to a protected page (a fault): %.1f us "
         "(%.1f us with the other thread running)\n", f0, f1);
  printf("  protecting %d pages in one call: %.2f us a page\n",
         2 * NPAGES, r0);
  printf("  a page protected with its neighbours to save a call pays when "
         "the chance it is written before the next collection is below "
         "%.2f (alone) or %.2f (other CPU busy)\n",
         f0 > 0 ? c0 / f0 : 0, f0 > 0 ? c1 / f0 : 0);
  return 0;
}
