/*
 * options.c — every environment variable spangc reads, in one table.
 *
 * Each entry is the variable's name and what the README's table says of
 * it: what it does, how its value is read, its default.  The subsystem
 * that owns a setting parses it where it is used, but reads it only
 * through sgc_option(name), which aborts, naming the caller's variable,
 * if the name is not in this table; the ctest options_match_the_readme
 * checks that the README's table has exactly these rows, in this order,
 * with these words, and tests/design-rules.sh that no source file but
 * this one calls getenv for a SPANGC_ variable.  A new setting therefore
 * means a row here and the same row in the README, in one change.
 *
 * No state beyond the constant table: safe from any thread, any time.
 */
#include <stdlib.h>
#include <string.h>

#include "spangc-int.h"

static const sgc_option_def options[] = {
    {"SPANGC_GOGC",
     "collect when the heap reaches live x (1 + GOGC/100): a whole number, "
     "default 100, `off` disables; anything else stops the program at start"},
    {"SPANGC_MARKERS",
     "marker threads per collection (default: CPUs)"},
    {"SPANGC_MAX_HEAP",
     "hard limit on in-use spans, fiber stacks included: bytes with an "
     "optional `K`/`M`/`G` or `KiB`/`MiB`/`GiB` suffix, `0` for none (the "
     "default); an allocation or a fiber over it fails (`NULL`, `ENOMEM`) "
     "after a collection (`sgc_set_max_heap`)"},
    {"SPANGC_MEMLIMIT",
     "soft limit on all memory the collector holds (spans, free pages "
     "not yet released, metadata): bytes with an optional `K`/`M`/`G` or "
     "`KiB`/`MiB`/`GiB` suffix, `0` for none (the default); near it "
     "collections come sooner and free pages go back at once; when live "
     "data exceeds it, the collections it adds are held to about half of "
     "the time and the heap grows past it (never past the GOGC goal); "
     "never fails an allocation (`sgc_set_memory_limit`; design.md 8d)"},
    {"SPANGC_DEBUG",
     "`gctrace=1`: two lines per collection on stderr (the collection; "
     "the heap: committed arena, pages in use (parked ones among them) "
     "and their peak, free runs and the largest, free pages by idle time, "
     "released pages, fiber "
     "stack pools); `verify=1`: heap verifier around every mark; "
     "`nobgsweep=1`: the background sweeper idles, so allocating threads "
     "and the stop sweep (tests)"},
    {"SPANGC_SIZING",
     "how much room the heap gets above its live data: `gogc` (GOGC's "
     "proportion; the default) or `sqrt` (the square root of live x "
     "allocation rate / marking speed, at most GOGC's room; with "
     "`SPANGC_CONCURRENT=1`, at least what the program allocates during a "
     "concurrent mark)"},
    {"SPANGC_GENERATIONAL",
     "`0` turns minor (generational) collections off; default on where "
     "the kernel tracks written pages"},
    {"SPANGC_AGING",
     "`0`: a minor collection promotes every young object it reaches; "
     "default `1`, `0` under the bdwgc layer (`libgc.so.1`) (one that "
     "survives its first minor stays young until the next, so what dies "
     "soon after is freed without a major)"},
    {"SPANGC_CONCURRENT",
     "`1`: major collections (the first one too) mark while the program "
     "runs, stopping it only to start and to finish, unless the heap marks "
     "in under 2 ms (needs `SPANGC_DIRTY=uffd`); default `0` (the world "
     "stays stopped for the whole mark)"},
    {"SPANGC_DIRTY",
     "how written pages are known: `uffd` (userfaultfd asynchronous "
     "write-protection, Linux 6.7+; the default where available) or "
     "`off` (every collection is major)"},
    {"SPANGC_SCAVENGE_MS",
     "each free page unused this long goes back to the OS, even while "
     "the program allocates beside it (default 5000)"},
    {"SPANGC_ARENA_SIZE",
     "address space to reserve (default 64 GiB; at least 16 MiB; k/m/g "
     "suffixes)"},
    {"SPANGC_MARK_STACK_MAX",
     "bytes of mark work buffers before overflow rescans, with an optional "
     "`K`/`M`/`G` or `KiB`/`MiB`/`GiB` suffix (default 64 MiB)"},
    {"SPANGC_FAIL_MMAP",
     "fault injection: the Nth request for memory fails; `N+`: that one "
     "and every later one"},
    {"SPANGC_SUSPEND_SIGNAL",
     "the signal that stops threads for a collection: a number, a name "
     "(`SIGUSR2`, `USR2`) or `SIGRTMIN+n`/`SIGRTMAX-n`; default "
     "`SIGPWR`.  One that cannot do it (`SIGKILL`, `SIGSTOP`, the fault "
     "signals, glibc's own 32 and 33) stops the program at start, saying "
     "why.  `sgc_set_suspend_signal` before the first call wins over it"},
};

const char *sgc_option(const char *name) {
  for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
    if (strcmp(options[i].name, name) == 0)
      return getenv(name);
  sgc_fatal("sgc_option: %s is not in the table of options (options.c)",
            name);
}

size_t sgc_options(const sgc_option_def **table) {
  *table = options;
  return sizeof options / sizeof options[0];
}
