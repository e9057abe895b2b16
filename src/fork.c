/*
 * fork.c — keeping the heap usable in the child of fork().
 *
 * Before fork, the forking thread waits for an initialisation under way
 * (init_lock, rule:fork-waits-for-init), takes gc_lock and raises a fork
 * barrier (world.c): every other mutator is outside any no-preempt region and
 * waits at the next one, so none holds a runtime lock or has a span half
 * swept, yet all keep running, so the C library's own locks (malloc arenas),
 * taken after these handlers, are released as usual.  It then takes the locks
 * that threads outside the world may hold (roots_lock, fin.lock and weak_lock,
 * the collector threads' locks, caches_lock, the mcentral locks, mheap.lock,
 * the fixalloc locks, dirty.c's later.lock (no unprotect call under way across
 * the fork), the thread records' among them: threads take that one off the
 * thread list, while they register and unregister), in the order of the lock
 * table (lockrank.h).  Last it waits until no thread the runtime made is
 * between pthread_create and its start function (os.c).  After fork the parent
 * releases them and lowers the barrier; the child releases them and forgets
 * every other thread: their caches hand their spans back, their records go,
 * and the runtime's own threads (markers, sweeper, finalizer thread,
 * scavenger) are started again when needed.
 *
 * Owns the handlers' installation.  design.md: rule:fork-barrier,
 * rule:fork-handlers-installed-first.
 */
#include "spangc-int.h"

static void prepare(void) {
  init_atfork(FORK_PREPARE); /* first: an initialisation under way ends */
  if (!ATOMIC_LOAD(&sgc_initialised))
    return;
  gc_atfork(FORK_PREPARE);
  world_atfork(FORK_PREPARE);
  roots_atfork(FORK_PREPARE);
  finalizer_atfork(FORK_PREPARE);
  gc_atfork_threads(FORK_PREPARE);
  caches_atfork(FORK_PREPARE);
  heap_atfork(FORK_PREPARE);
  dirty_atfork(FORK_PREPARE);
  os_atfork(FORK_PREPARE); /* last: waits for thread starts (os.c) */
}

static void release(int phase) {
  if (!ATOMIC_LOAD(&sgc_initialised))
    return;
  /* Not the reverse of prepare's order (releases need none); the
   * child's handlers run in the order they always have. */
  os_atfork(phase); /* first: the child's handlers start threads */
  finalizer_atfork(phase);
  roots_atfork(phase);
  caches_atfork(phase);
  dirty_atfork(phase); /* before the heap's: its child handler locks again */
  heap_atfork(phase);
  gc_atfork_threads(phase);
  world_atfork(phase); /* in the child: drops the other threads */
  gc_atfork(phase);
}

static void parent(void) {
  release(FORK_PARENT);
  init_atfork(FORK_PARENT);
  /* The unprotect calls of a walk the prepare handler made (gc.c). */
  if (ATOMIC_LOAD(&sgc_initialised))
    run_as_blocking(dirty_unprotect_calls);
}
static void child(void) {
  release(FORK_CHILD);
  if (ATOMIC_LOAD(&sgc_initialised))
    dirty_atfork_child();
  init_atfork(FORK_CHILD);
}

/* The handlers are installed when the library is loaded, before the
 * program's own (rule:fork-handlers-installed-first): prepare handlers
 * run in the reverse order of installation and the others in order, so a
 * program's prepare handler runs before spangc's takes its locks and its
 * parent and child handlers after spangc's released them: all may call
 * spangc (allocate, start a thread).  Installed by sgc_init instead, they
 * ran inside the program's handlers installed before it, and a prepare
 * handler that started a thread with sgc_pthread_create waited for ever
 * on the bar spangc's own had raised
 * (world_fork_handlers_installed_before_init_may_call_spangc).  Until
 * sgc_init the handlers do nothing.  sgc_init installs them if no
 * constructor ran (a loader that runs none). */
static int installed; /* atomic: 1 once installed (or being installed) */

/* Once only, whichever comes first: a program constructor of higher
 * priority, or a .preinit_array function, that allocates runs sgc_init
 * before this constructor, and handlers installed twice took every lock
 * twice: the first fork hung (helper-60).  True if installed here. */
static bool install_once(void) {
  int no = 0;
  if (!__atomic_compare_exchange_n(&installed, &no, 1, false,
                                   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    return true; /* already */
  if (pthread_atfork(prepare, parent, child) == 0)
    return true;
  __atomic_store_n(&installed, 0, __ATOMIC_RELEASE);
  return false;
}

/* Priority 200: before the constructors that have none, the bdwgc
 * layer's among them (its child handler must run after this one's). */
__attribute__((constructor(200))) static void fork_install(void) {
  (void)install_once(); /* on failure, sgc_init tries again and says so */
}

void fork_init(void) {
  if (!install_once())
    sgc_fatal("sgc_init: cannot install the fork handlers");
}
