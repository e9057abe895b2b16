// labels: world threads
/* A thread in a blocking region is not stopped: the collector scans what
 * it recorded on entry, its registers and its stack from there up.  The
 * registers must be the caller's: pointers the caller keeps in
 * callee-saved registers (rbx, rbp, r12-r15) across sgc_enter_blocking ...
 * sgc_exit_blocking are found only there.  When a change made the
 * compiler use rbx inside sgc_enter_blocking before it recorded the
 * registers, a list held in rbx across the region was freed while another
 * thread collected (the caller's rbx sat in sgc_enter_blocking's frame,
 * popped on return).  Here six lists live only in the six callee-saved
 * registers (an asm block puts them there and calls the region's entry
 * and exit itself, so no copy is on the stack) while another thread
 * collects and reuses memory, round after round. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "check.h"
#include "gctest.h"

typedef struct node { struct node *next; uint64_t v; } node;

static int stop; /* atomic */

static node *__attribute__((noinline)) make(uint64_t base, int n) {
  node *l = NULL;
  for (int i = 0; i < n; i++) {
    node *p = sgc_alloc(sizeof *p);
    CHECK(p != NULL);
    p->next = l;
    p->v = base + (uint64_t)i;
    l = p;
  }
  return l;
}

static int __attribute__((noinline)) intact(const node *l, uint64_t base,
                                            int n) {
  for (int i = n - 1; i >= 0; i--, l = l->next)
    if (l == NULL || l->v != base + (uint64_t)i)
      return 0;
  return l == NULL;
}

static void *collector(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
    sgc_collect();
    node *volatile junk = make(0xdead0000, 3000); /* reuse what was freed */
    (void)junk;
  }
  return NULL;
}

/* Inside the region: first scribble over the stack right below the
 * caller (as any call would: the frame sgc_enter_blocking popped is
 * here), then wait while the collector runs. */
__attribute__((noinline, used)) void in_region(void);
__attribute__((noinline, used)) void in_region(void) {
  volatile uintptr_t scratch[512];
  for (int i = 0; i < 512; i++)
    scratch[i] = (uintptr_t)i * 0x9e3779b97f4a7c15ull;
  (void)scratch[511];
  struct timespec ts = {0, 300000};
  nanosleep(&ts, NULL);
}

/* Holds l[0..5] in rbx, rbp, r12, r13, r14, r15 only, across
 * sgc_enter_blocking, in_region and sgc_exit_blocking; returns them in
 * out[].  The caller's own values of those registers are saved and
 * restored around it. */
static void __attribute__((noinline)) hold_in_registers(node **l,
                                                        node **out) {
  __asm__ volatile(
      /* Below the red zone, 16-byte aligned; the old rsp kept twice. */
      "movq %%rsp, %%rax\n\t"
      "subq $128, %%rsp\n\t"
      "andq $-16, %%rsp\n\t"
      "pushq %%rax\n\t"
      "pushq %%rax\n\t"
      "pushq %%rbx\n\t"
      "pushq %%rbp\n\t"
      "pushq %%r12\n\t"
      "pushq %%r13\n\t"
      "pushq %%r14\n\t"
      "pushq %%r15\n\t"
      "pushq %%rsi\n\t" /* out */
      "movq 0(%%rdi), %%rbx\n\t"
      "movq 8(%%rdi), %%rbp\n\t"
      "movq 16(%%rdi), %%r12\n\t"
      "movq 24(%%rdi), %%r13\n\t"
      "movq 32(%%rdi), %%r14\n\t"
      "movq 40(%%rdi), %%r15\n\t"
      /* the only other copies: clear them */
      "movq $0, 0(%%rdi)\n\t"
      "movq $0, 8(%%rdi)\n\t"
      "movq $0, 16(%%rdi)\n\t"
      "movq $0, 24(%%rdi)\n\t"
      "movq $0, 32(%%rdi)\n\t"
      "movq $0, 40(%%rdi)\n\t"
      "subq $8, %%rsp\n\t" /* 16-byte alignment for the calls */
      "call sgc_enter_blocking\n\t"
      "call in_region\n\t"
      "call sgc_exit_blocking\n\t"
      "addq $8, %%rsp\n\t"
      "popq %%rax\n\t" /* out */
      "movq %%rbx, 0(%%rax)\n\t"
      "movq %%rbp, 8(%%rax)\n\t"
      "movq %%r12, 16(%%rax)\n\t"
      "movq %%r13, 24(%%rax)\n\t"
      "movq %%r14, 32(%%rax)\n\t"
      "movq %%r15, 40(%%rax)\n\t"
      "popq %%r15\n\t"
      "popq %%r14\n\t"
      "popq %%r13\n\t"
      "popq %%r12\n\t"
      "popq %%rbp\n\t"
      "popq %%rbx\n\t"
      "popq %%rax\n\t"
      "movq %%rax, %%rsp\n\t"
      : "+D"(l), "+S"(out)
      :
      : "rax", "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc",
        "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
        "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14",
        "xmm15");
}

int main(void) {
  sgc_init();
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, collector, NULL) == 0);
  enum { N = 200 };
  long rounds = scaled(400) < 40 ? 40 : scaled(400);
  for (long r = 0; r < rounds; r++) {
    node *l[6], *out[6];
    uint64_t base = (uint64_t)r << 20;
    for (int k = 0; k < 6; k++)
      l[k] = make(base + ((uint64_t)k << 12), N);
    clear_stack(); /* no stale copies below */
    hold_in_registers(l, out);
    for (int k = 0; k < 6; k++)
      CHECKF(intact(out[k], base + ((uint64_t)k << 12), N),
             "round %ld: the list held in callee-saved register %d (rbx, "
             "rbp, r12..r15) across a blocking region was freed", r, k);
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  sgc_enter_blocking();
  pthread_join(t, NULL);
  sgc_exit_blocking();
  printf("%ld rounds: six lists held only in callee-saved registers across "
         "blocking regions came through\n", rounds);
  return 0;
}
