// labels: gc threads
/* A thread stopped by the suspend signal (SIGPWR) in the middle of its own
 * code may hold a pointer only in a vector register.  The kernel saves
 * those in the xsave image of the signal frame: the legacy 512 bytes
 * (XMM0-15) and then, on AVX machines, the upper halves of YMM0-15 and, on
 * AVX-512 machines, the upper halves of ZMM0-15 and all of ZMM16-31.  When
 * the handler runs on a signal stack (sigaltstack), that frame is not on
 * the thread's stack, so the collector must copy the whole image, not only
 * the legacy area.
 *
 * Each case: a worker allocates an object, hides the pointer, and in one
 * asm block un-hides it into one vector register only (YMM upper half, ZMM
 * upper half, or ZMM20), wipes every other register that could hold it,
 * and spins (using no vector register) until the main thread lets it go.
 * Meanwhile the main thread collects (each time checking that the worker
 * was stopped by the signal inside the loop) and allocates objects of the
 * same size.  Then the object must still be live, its contents intact, and
 * its address not handed out again.  Each case runs with and without a
 * signal stack.  ThreadSanitizer delivers signals late, at its
 * interceptors, not inside an asm loop: the test is skipped there. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc-int.h"

#define KEY 0xa5a5a5a5a5a5a5a5ull /* hidden = pointer ^ KEY: never a heap address */
#define OBJ_SIZE 1000
#define NWORDS (OBJ_SIZE / sizeof(uint64_t))
#define ALTSTACK_SIZE (64 << 10)

enum { YMM_UPPER, ZMM_UPPER, ZMM_HIGH16, NKINDS };
static const char *const kind_name[NKINDS] = {
    "YMM3 upper half", "ZMM5 upper 256 bits", "ZMM20"};

/* Shared with the asm loop. */
static volatile int ready, go;
static volatile uintptr_t loop_lo, loop_hi; /* the spin loop's code */

/* The main thread's allocations of this round, hidden (malloc'ed: not
 * scanned). */
static uintptr_t *main_addrs;
static volatile long main_n;

static uint64_t pattern(size_t i) { return 0x0123456789abcdefull * (i + 1) ^ 0x5eed; }

/* The object's pointer leaves this function only hidden. */
static __attribute__((noinline)) uintptr_t make_object(void) {
  uint64_t *p = sgc_alloc(OBJ_SIZE);
  CHECK(p != NULL);
  for (size_t i = 0; i < NWORDS; i++)
    p[i] = pattern(i);
  uintptr_t h = (uintptr_t)p ^ KEY;
  __asm__ volatile("" : "+r"(h));
  return h;
}

/* Zero every caller-saved general register, and YMM0-15 (vzeroall); the
 * asm operands below are all in memory. */
#define WIPE_GPRS                                                              \
  "xorl %%eax, %%eax\n\txorl %%ecx, %%ecx\n\txorl %%edx, %%edx\n\t"            \
  "xorl %%esi, %%esi\n\txorl %%edi, %%edi\n\txorl %%r8d, %%r8d\n\t"            \
  "xorl %%r9d, %%r9d\n\txorl %%r10d, %%r10d\n\txorl %%r11d, %%r11d\n\t"        \
  "vzeroall\n\t"
/* xmm1 = *h ^ KEY (the pointer), with rax = KEY. */
#define UNHIDE_TO_XMM1                                                         \
  "movabsq $0xa5a5a5a5a5a5a5a5, %%rax\n\t"                                     \
  "vmovq %[h], %%xmm1\n\t"                                                     \
  "vmovq %%rax, %%xmm2\n\t"                                                    \
  "vpxor %%xmm2, %%xmm1, %%xmm1\n\t"
/* Publish the loop's bounds, say ready, spin until go; no vector
 * register is touched. */
#define SPIN                                                                   \
  "vpxor %%xmm1, %%xmm1, %%xmm1\n\t"                                           \
  "vpxor %%xmm2, %%xmm2, %%xmm2\n\t"                                           \
  "leaq 2f(%%rip), %%rcx\n\tmovq %%rcx, %[lo]\n\t"                             \
  "leaq 3f(%%rip), %%rcx\n\tmovq %%rcx, %[hi]\n\t"                             \
  "xorl %%ecx, %%ecx\n\t"                                                      \
  "movl $1, %[ready]\n"                                                        \
  "2:\tpause\n\t"                                                              \
  "cmpl $0, %[go]\n\t"                                                         \
  "je 2b\n"                                                                    \
  "3:\n\t"
/* *out = xmm1 ^ KEY. */
#define HIDE_FROM_XMM1                                                         \
  "vmovq %%rax, %%xmm2\n\t"                                                    \
  "vpxor %%xmm2, %%xmm1, %%xmm1\n\t"                                           \
  "vmovq %%xmm1, %[out]\n\t"                                                   \
  "vpxor %%xmm1, %%xmm1, %%xmm1\n\t"                                           \
  "vpxor %%xmm2, %%xmm2, %%xmm2\n\t"
#define OPERANDS                                                               \
  : [out] "=m"(out), [lo] "=m"(loop_lo), [hi] "=m"(loop_hi),                   \
    [ready] "=m"(ready)                                                        \
  : [h] "m"(h), [go] "m"(go)
#define GPR_CLOBBERS                                                           \
  "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "cc", "memory"

/* The pointer in bits 128-191 of YMM3 only (XMM3 is zero). */
static __attribute__((noinline, target("avx"))) uintptr_t
hold_in_ymm_upper(uintptr_t hidden) {
  volatile uintptr_t h = hidden, out = 0;
  __asm__ volatile(WIPE_GPRS UNHIDE_TO_XMM1
                   "vinsertf128 $1, %%xmm1, %%ymm3, %%ymm3\n\t" SPIN
                   "vextractf128 $1, %%ymm3, %%xmm1\n\t" HIDE_FROM_XMM1
                   "vzeroall\n\t" OPERANDS
                   : GPR_CLOBBERS, "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
                     "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
                     "xmm12", "xmm13", "xmm14", "xmm15");
  return out;
}

/* The pointer in bits 256-319 of ZMM5 only (YMM5 is zero). */
static __attribute__((noinline, target("avx512f"))) uintptr_t
hold_in_zmm_upper(uintptr_t hidden) {
  volatile uintptr_t h = hidden, out = 0;
  __asm__ volatile(WIPE_GPRS "vpxord %%zmm5, %%zmm5, %%zmm5\n\t" UNHIDE_TO_XMM1
                   "vinserti64x4 $1, %%ymm1, %%zmm5, %%zmm5\n\t" SPIN
                   "vextracti64x4 $1, %%zmm5, %%ymm1\n\t"
                   "vpxord %%zmm5, %%zmm5, %%zmm5\n\t" HIDE_FROM_XMM1
                   "vzeroupper\n\t" OPERANDS
                   : GPR_CLOBBERS, "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
                     "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
                     "xmm12", "xmm13", "xmm14", "xmm15");
  return out;
}

/* The pointer in bits 0-63 of ZMM20 only: ZMM16-31 have no legacy part. */
static __attribute__((noinline, target("avx512f"))) uintptr_t
hold_in_zmm20(uintptr_t hidden) {
  volatile uintptr_t h = hidden, out = 0;
  __asm__ volatile(WIPE_GPRS "vpxord %%zmm20, %%zmm20, %%zmm20\n\t"
                   UNHIDE_TO_XMM1 "vmovdqa64 %%zmm1, %%zmm20\n\t" SPIN
                   "vmovdqa64 %%zmm20, %%zmm1\n\t"
                   "vpxord %%zmm20, %%zmm20, %%zmm20\n\t" HIDE_FROM_XMM1
                   "vzeroupper\n\t" OPERANDS
                   : GPR_CLOBBERS, "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
                     "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
                     "xmm12", "xmm13", "xmm14", "xmm15", "xmm20");
  return out;
}

typedef struct {
  int kind, altstack;
  pthread_t tid;
  void *altbuf;
  char fail[256]; /* empty: passed */
} wcase;

/* With the pointer live again: is the object intact and still its own? */
static __attribute__((noinline)) void verify(wcase *c, uint64_t *p) {
  if (sgc_base(p) != p) {
    snprintf(c->fail, sizeof c->fail,
             "object %p is no longer live (sgc_base = %p)", (void *)p,
             sgc_base(p));
    return;
  }
  for (long i = 0; i < main_n; i++)
    if ((main_addrs[i] ^ KEY) == (uintptr_t)p) {
      snprintf(c->fail, sizeof c->fail,
               "object %p was handed out again (main allocation %ld)",
               (void *)p, i);
      return;
    }
  for (size_t i = 0; i < NWORDS; i++)
    if (p[i] != pattern(i)) {
      snprintf(c->fail, sizeof c->fail,
               "object %p overwritten at word %zu: %#llx", (void *)p, i,
               (unsigned long long)p[i]);
      return;
    }
}

static void *worker(void *arg) {
  wcase *c = arg;
  if (c->altstack) {
    c->altbuf = malloc(ALTSTACK_SIZE);
    CHECK(c->altbuf != NULL);
    stack_t ss = {.ss_sp = c->altbuf, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
    CHECK(sigaltstack(&ss, NULL) == 0);
  }
  uintptr_t h = make_object();
  clear_stack();
  switch (c->kind) {
  case YMM_UPPER: h = hold_in_ymm_upper(h); break;
  case ZMM_UPPER: h = hold_in_zmm_upper(h); break;
  default: h = hold_in_zmm20(h); break;
  }
  verify(c, (uint64_t *)(h ^ KEY));
  if (c->altstack) {
    stack_t ss = {.ss_flags = SS_DISABLE};
    CHECK(sigaltstack(&ss, NULL) == 0);
  }
  return NULL;
}

/* Where the worker was when the last stop caught it. */
static wcase *inspected;
static uintptr_t seen_rip, seen_fpregs;
static int seen;
static void inspect(mthread *t, void *arg) {
  (void)arg;
  if (!pthread_equal(t->tid, inspected->tid))
    return;
  seen = 1;
  seen_rip = (uintptr_t)t->ctx.uc_mcontext.gregs[REG_RIP];
  seen_fpregs = (uintptr_t)t->ctx.uc_mcontext.fpregs;
}

static void check_stopped_in_loop(wcase *c) {
  inspected = c;
  seen = 0;
  /* The list under threads_lock, taken as the runtime takes it: holding
   * it, no stop begins, so the saved contexts stay as they are. */
  lock_as_blocking(&threads_lock);
  world_foreach_thread(inspect, NULL);
  sgc_unlock(&threads_lock);
  CHECKF(seen, "worker not found among the registered threads");
  CHECKF(seen_rip >= loop_lo && seen_rip < loop_hi,
         "%s: the worker was not stopped inside its spin loop (rip %#lx, "
         "loop [%#lx, %#lx)): test setup broken",
         kind_name[c->kind], (unsigned long)seen_rip,
         (unsigned long)loop_lo, (unsigned long)loop_hi);
  if (c->altstack)
    CHECKF(seen_fpregs >= (uintptr_t)c->altbuf &&
               seen_fpregs < (uintptr_t)c->altbuf + ALTSTACK_SIZE,
           "%s: the signal frame (%#lx) is not on the worker's signal stack "
           "[%p, +%d): test setup broken",
           kind_name[c->kind], (unsigned long)seen_fpregs, c->altbuf,
           ALTSTACK_SIZE);
}

static __attribute__((noinline)) void churn(long n) {
  void **keep = sgc_alloc((size_t)n * sizeof *keep);
  CHECK(keep != NULL);
  for (long i = 0; i < n; i++) {
    unsigned char *q = sgc_alloc(OBJ_SIZE);
    CHECK(q != NULL);
    memset(q, 0xee, OBJ_SIZE);
    keep[i] = q;
    main_addrs[main_n++] = (uintptr_t)q ^ KEY;
  }
}

static int run_case(int kind, int altstack) {
  static wcase c;
  memset(&c, 0, sizeof c);
  c.kind = kind;
  c.altstack = altstack;
  ready = go = 0;
  main_n = 0;
  CHECK(sgc_pthread_create(&c.tid, NULL, worker, &c) == 0);
  while (!ready)
    usleep(1000);
  for (int k = 0; k < 3; k++) {
    sgc_collect();
    check_stopped_in_loop(&c);
  }
  /* Memory of a wrongly freed object gets reused. */
  churn(scaled(4000));
  sgc_collect();
  check_stopped_in_loop(&c);
  go = 1;
  CHECK(pthread_join(c.tid, NULL) == 0);
  free(c.altbuf);
  clear_stack();
  sgc_collect();
  printf("%-20s %-17s %s%s\n", kind_name[kind],
         altstack ? "on a signal stack" : "on its own stack",
         c.fail[0] ? "FAILED: " : "kept", c.fail);
  return c.fail[0] == 0;
}

int main(void) {
#if TEST_TSAN
  printf("skipped: ThreadSanitizer delays the suspend signal until an "
         "interceptor runs\n");
  return 0;
#endif
  sgc_init();
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx")) {
    printf("skipped: no AVX on this CPU\n");
    return 0;
  }
  main_addrs = malloc((size_t)scaled(4000) * sizeof *main_addrs);
  CHECK(main_addrs != NULL);
  int avx512 = __builtin_cpu_supports("avx512f");
  if (!avx512)
    printf("no AVX-512F on this CPU: ZMM cases skipped\n");
  int failed = 0;
  for (int kind = 0; kind < NKINDS; kind++) {
    if (kind != YMM_UPPER && !avx512)
      continue;
    for (int alt = 1; alt >= 0; alt--)
      failed += !run_case(kind, alt);
  }
  CHECKF(failed == 0, "%d case(s) lost an object held in a vector register",
         failed);
  return 0;
}
