/*
 * blocking.c — blocking regions: a registered thread stepping out of the
 * stops' reach and back (sgc_enter_blocking / sgc_exit_blocking).
 *
 * Blocking regions (sgc_enter_blocking / sgc_exit_blocking, Go's
 * entersyscall/exitsyscall) let a thread wait or compute for long without
 * holding up a collection: it saves its registers and stack pointer and
 * marks itself BLOCKING; the collector scans what it saved and does not
 * signal it.  State changes happen under world.mutex, and the collector
 * decides whom to signal under that same mutex, so a thread cannot leave a
 * blocking region while the world is stopped: sgc_exit_blocking waits on
 * world.cond until the world restarts.
 *
 * Owns no state of its own: a thread's state, sp and ctx, and the world's
 * stop and barrier flags it reads (world.c), are world.mutex's; its rank:
 * lockrank.h.
 */
#include "spangc-int.h"

/* ---------------------------------------------------- blocking regions */

/* A thread that could not be registered (out of memory) and entered a
 * blocking region: no stop knows it, so the region records nothing, and
 * its end only clears this. */
static __thread int blocking_unregistered;

/* sgc_enter_blocking is machine.c's: it pushes the caller's callee-saved
 * registers (rbx, rbp, r12-r15) before any C code can use them and passes
 * where they are.  What the thread records for the collector must be the
 * caller's registers and the caller's stack: the thread runs on after
 * this returns, so this function's frame (where a C prologue would have
 * saved those registers) is gone by the time the collector scans.  A C
 * entry that called getcontext after its compiler had put its own
 * values in rbx lost a list the caller held in rbx
 * (world_blocking_region_keeps_the_callers_registers; rule:blocking-regs). */
void world_enter_blocking(const uintptr_t *saved) {
  /* Tested first: memory may have come back since, and registering the
   * thread now would hide the nesting (the review of b7d04b0). */
  if (blocking_unregistered)
    sgc_fatal("sgc_enter_blocking: the calling thread is already in a "
              "blocking region");
  mcache *c = mcache_get();
  mthread *t = c ? c->thr : NULL;
  if (t == NULL) {
    /* Not registered, and no memory to register it: no collection waits
     * for it or scans it, in the region or out of it. */
    blocking_unregistered = 1;
    return;
  }
  if (t->state == THR_BLOCKING)
    sgc_fatal("sgc_enter_blocking: thread %lu is already in a blocking "
              "region", (unsigned long)t->tid);
  nopreempt_enter(c);
  sgc_lock(&world.mutex);
  t->fpsize = 0;
  memset(&t->ctx_now, 0, sizeof t->ctx_now);
  /* Only the callee-saved registers and the stack pointer are live at a
   * call: the rest of the context is left zero.  Not getcontext, which
   * asks the kernel for the signal mask: a system call at every entry
   * (Guile enters one, through GC_call_with_alloc_lock, about 10000 times
   * a second in binary trees). */
  memset(&t->ctx, 0, sizeof t->ctx);
  greg_t *r = t->ctx.uc_mcontext.gregs;
  r[REG_R15] = (greg_t)saved[0];
  r[REG_R14] = (greg_t)saved[1];
  r[REG_R13] = (greg_t)saved[2];
  r[REG_R12] = (greg_t)saved[3];
  r[REG_RBX] = (greg_t)saved[4];
  r[REG_RBP] = (greg_t)saved[5];
  /* saved[6] is the return address; the caller's stack starts above. */
  r[REG_RSP] = (greg_t)(uintptr_t)&saved[7];
  t->sp = (uintptr_t)&saved[6];
  t->state = THR_BLOCKING;
  /* A stop that signalled this thread and waits for it: what it needs is
   * recorded now, so acknowledge here rather than rely on the signal (a
   * thread about to block, e.g. on a mutex, may get it late: TSan holds
   * signals back during pthread_mutex_lock).  Test and post happen inside
   * the region, where the handler only sets pending (rule:acks-exact). */
  uint64_t g = ATOMIC_LOAD(&t->sig_gen);
  if ((world.stopping || world.barrier) && t->signalled && g == world.gen &&
      ATOMIC_LOAD(&t->ack_gen) != g) {
    t->self_acked = 1;
    ATOMIC_STORE(&t->ack_gen, g);
    sem_post(&world.ack);
  }
  sgc_unlock(&world.mutex);
  nopreempt_leave(c);
}

void sgc_exit_blocking(void) {
  if (blocking_unregistered) {
    blocking_unregistered = 0;
    return;
  }
  mcache *c = sgc_tls_cache;
  mthread *t = c ? c->thr : NULL;
  if (t == NULL || t->state != THR_BLOCKING)
    sgc_fatal("sgc_exit_blocking: the calling thread is not in a blocking "
              "region");
  nopreempt_enter(c);
  sgc_lock(&world.mutex);
  /* No thread joins a stopped world (rule:exit-blocking-waits). */
  while (world.stopping)
    sgc_cond_wait(&world.cond, &world.mutex);
  t->state = THR_RUNNING;
  sgc_unlock(&world.mutex);
  nopreempt_leave(c);
#if SPANGC_DEBUG
  lockrank_check_unblocked();
#endif
}
