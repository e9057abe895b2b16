// labels: world threads
// env: TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:detect_deadlocks=0:die_after_fork=0
/* Where seccomp refuses process_vm_readv, the collector reads a blocking
 * thread's TLS through /proc/self/mem, opened once and kept.  In a child
 * of fork() the kept file is the parent's memory: read through it, the
 * child's blocking thread's TLS vector and blocks were the parent's
 * words at those addresses, and an object only that thread's TLS block
 * referenced was freed.  Here the parent, with process_vm_readv refused,
 * collects while a blocking thread holds an object in a dlopen'ed
 * library's TLS block (so the file is opened), then forks; the child
 * makes such a thread of its own, collects and reuses memory, and the
 * object must be intact; so must the parent's.  With the file checked
 * against this process's before each use, the child opens its own. */
#include <dlfcn.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sched.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

enum { WORDS = 16 };
#define PATTERN(i) (0x7a110000u + (uintptr_t)(i) * 7919u)

/* seccomp: process_vm_readv fails with EPERM, everything else runs. */
static int refuse_process_vm_readv(void) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {(unsigned short)(sizeof f / sizeof f[0]), f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
    return 0;
  char a = 1, b = 0;
  struct iovec l = {&b, 1}, r = {&a, 1};
  return syscall(SYS_process_vm_readv, getpid(), &l, 1L, &r, 1L, 0L) < 0 &&
         errno == EPERM;
}

static atomic_int phase; /* 1: the object is stored; 2: collections done */

/* Opens the library, stores an object only its TLS block references,
 * and waits in a blocking region until phase 2; then checks it. */
static void *holder(void *arg) {
  (void)arg;
  void *h = dlopen(TLS_LARGE, RTLD_NOW);
  CHECKF(h != NULL, "dlopen: %s", dlerror());
  void (*set)(void *) = (void (*)(void *))dlsym(h, "tlslarge_set");
  void *(*get)(void) = (void *(*)(void))dlsym(h, "tlslarge_get");
  uintptr_t *obj = sgc_alloc(WORDS * sizeof(uintptr_t));
  CHECK(obj != NULL);
  for (int i = 0; i < WORDS; i++)
    obj[i] = PATTERN(i);
  set(obj);
  obj = NULL;
  clear_stack();
  sgc_enter_blocking();
  atomic_store(&phase, 1);
  while (atomic_load(&phase) != 2)
    sched_yield();
  sgc_exit_blocking();
  uintptr_t *back = get();
  for (int i = 0; i < WORDS; i++)
    CHECKF(back[i] == PATTERN(i), "pid %d: word %d of the object only a "
           "blocking thread's TLS held is %#lx: it was freed", (int)getpid(),
           i, (unsigned long)back[i]);
  set(NULL);
  return NULL;
}

/* One holder, collections and memory reuse while it blocks, its check. */
static void collect_beside_a_holder(void) {
  atomic_store(&phase, 0);
  pthread_t t;
  CHECK(sgc_pthread_create(&t, NULL, holder, NULL) == 0);
  while (atomic_load(&phase) != 1)
    sched_yield();
  for (int k = 0; k < 4; k++) {
    sgc_collect();
    for (int i = 0; i < 20000; i++) { /* reuses the slots of the freed */
      uintptr_t *volatile junk = sgc_alloc(WORDS * sizeof(uintptr_t));
      junk[0] = 1;
    }
  }
  sgc_collect();
  atomic_store(&phase, 2);
  sgc_enter_blocking();
  CHECK(pthread_join(t, NULL) == 0);
  sgc_exit_blocking();
}

int main(void) {
  if (!refuse_process_vm_readv()) {
    printf("skipped: seccomp cannot refuse process_vm_readv here\n");
    return 0;
  }
  sgc_init();
  collect_beside_a_holder(); /* the parent opens /proc/self/mem */
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    collect_beside_a_holder(); /* aborts on a lost object */
    _exit(0);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    CHECK(errno == EINTR);
  CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
         "the child lost the object its blocking thread's TLS held "
         "(status %#x)", status);
  collect_beside_a_holder();
  printf("a blocking thread's TLS kept its object in the parent and in a "
         "fork child, with process_vm_readv refused\n");
  return 0;
}
