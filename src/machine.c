/*
 * machine.c — what is written for the machine (x86-64, System V ABI, ELF,
 * glibc's thread pointer), in one place:
 *   call_on_stack   runs a function on another stack: the collector's own
 *                   (gc.c), since a collection may start on a small fiber
 *                   stack;
 *   fiber_swap      the fibers' context switch (fiber.c): saves the
 *                   callee-saved registers and the SSE/x87 control words
 *                   on the current stack, stores the stack pointer, loads
 *                   the other one and pops the same;
 *   fiber_entry     where a fiber's first switch lands;
 *   sgc_enter_blocking  pushes the caller's callee-saved registers and
 *                   calls world_enter_blocking (blocking.c) with their
 *                   address: the registers a blocking thread records must
 *                   be its caller's, untouched by any C prologue
 *                   (rule:blocking-regs);
 *   machine_thread_pointer  the thread control block (%fs:0).
 *
 * Knowledge of the machine that stays beside its users: the first frame
 * of a new fiber (built in fiber.c) matches fiber_swap's pops and lands in
 * fiber_entry, which calls fiber_main (fiber.c); a stopped thread's saved
 * context (world.c) skips the red zone; a thread's thread-local storage is
 * found through glibc's dynamic thread vector (markroot.c).
 *
 * No state, no locks.
 */
#include "spangc-int.h"

#if !defined(__x86_64__)
#error "spangc: the stack switches are written for x86-64 only"
#endif

__asm__(".text\n"
        ".globl call_on_stack\n"
        ".hidden call_on_stack\n"
        ".type call_on_stack,@function\n"
        "call_on_stack:\n" /* rdi = fn, rsi = arg, rdx = top (16-aligned) */
        "  pushq %rbp\n"
        "  movq %rsp, %rbp\n"
        "  movq %rdx, %rsp\n"
        "  movq %rdi, %rax\n"
        "  movq %rsi, %rdi\n"
        "  call *%rax\n"
        "  movq %rbp, %rsp\n"
        "  popq %rbp\n"
        "  ret\n"
        ".size call_on_stack,.-call_on_stack\n");

__asm__(".text\n"
        ".globl fiber_swap\n"
        ".hidden fiber_swap\n"
        ".type fiber_swap,@function\n"
        "fiber_swap:\n"
        "  pushq %rbp\n"
        "  pushq %rbx\n"
        "  pushq %r12\n"
        "  pushq %r13\n"
        "  pushq %r14\n"
        "  pushq %r15\n"
        "  subq $8, %rsp\n"
        "  stmxcsr (%rsp)\n"
        "  fnstcw 4(%rsp)\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n"
        "  ldmxcsr (%rsp)\n"
        "  fldcw 4(%rsp)\n"
        "  addq $8, %rsp\n"
        "  popq %r15\n"
        "  popq %r14\n"
        "  popq %r13\n"
        "  popq %r12\n"
        "  popq %rbx\n"
        "  popq %rbp\n"
        /* The popped slots (in the red zone now) are wiped: they held
         * what this stack's code kept in registers when it switched out,
         * often the fiber it switched to, and the frames of its next
         * calls, laid over them, would keep that alive in slots they
         * never write (helper-55). */
        "  xorl %eax, %eax\n"
        "  movq %rax, -8(%rsp)\n"
        "  movq %rax, -16(%rsp)\n"
        "  movq %rax, -24(%rsp)\n"
        "  movq %rax, -32(%rsp)\n"
        "  movq %rax, -40(%rsp)\n"
        "  movq %rax, -48(%rsp)\n"
        "  ret\n"
        ".size fiber_swap,.-fiber_swap\n"
        /* First switch into a fiber lands here with the fiber in r12 and
         * a 16-byte aligned stack. */
        ".globl fiber_entry\n"
        ".hidden fiber_entry\n"
        ".type fiber_entry,@function\n"
        "fiber_entry:\n"
        "  movq %r12, %rdi\n"
        "  call fiber_main\n"
        "  ud2\n"
        ".size fiber_entry,.-fiber_entry\n");

/* saved[0..5] = r15, r14, r13, r12, rbx, rbp; saved[6] = the return
 * address.  Six pushes after the call leave the stack 8 off 16-byte
 * alignment: one more slot before the call. */
__asm__(".text\n"
        ".globl sgc_enter_blocking\n"
        ".type sgc_enter_blocking,@function\n"
        "sgc_enter_blocking:\n"
        "  pushq %rbp\n"
        "  pushq %rbx\n"
        "  pushq %r12\n"
        "  pushq %r13\n"
        "  pushq %r14\n"
        "  pushq %r15\n"
        "  movq %rsp, %rdi\n"
        "  subq $8, %rsp\n"
        "  call world_enter_blocking\n"
        "  addq $8, %rsp\n"
        "  popq %r15\n"
        "  popq %r14\n"
        "  popq %r13\n"
        "  popq %r12\n"
        "  popq %rbx\n"
        "  popq %rbp\n"
        "  ret\n"
        ".size sgc_enter_blocking,.-sgc_enter_blocking\n");

uintptr_t machine_thread_pointer(void) {
  uintptr_t tcb;
  __asm__("movq %%fs:0, %0" : "=r"(tcb));
  return tcb;
}
