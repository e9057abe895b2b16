/*
 * debian_headers_program.c — a program built with Debian's bdwgc headers
 * (libgc-dev) and linked with Debian's libgc.so.1, for
 * debian_headers_program_starts.sh, which runs it on the stock library
 * and on ours.  Built -no-pie, so every data object it names is copied
 * into it at the stock size (the loader complains when ours differs), and
 * linked with refs.c, which names every GC_ symbol the stock library
 * exports, so that with LD_BIND_NOW a missing one stops it from starting.
 * It prints facts that hold on both libraries.
 */
#define GC_THREADS
#include <gc.h>
#include <gc/gc_typed.h>
#include <gc/gc_mark.h>
#include <gc/gc_inline.h>
#include <gc/gc_gcj.h>
#include <gc/gc_disclaim.h>
#include <gc/javaxfc.h>

#include <stdio.h>
#include <string.h>

extern void *const debian_refs[]; /* refs.c */
extern const unsigned long debian_nrefs;

static int events[16];
static void GC_CALLBACK on_event(GC_EventType e) {
  if ((unsigned)e < 16)
    events[e]++;
}

static int finalized;
static void GC_CALLBACK on_finalized(void *obj, void *cd) {
  if (*(long *)obj == 42 && cd == (void *)&finalized)
    finalized++;
}

/* A vtable: word 0 anything, word 1 the mark descriptor (no pointers). */
static GC_word vtable[2] = {0, GC_DS_LENGTH};

static const struct GC_finalizer_closure closure = {on_finalized, &finalized};

static void *make_garbage(void) {
  for (int i = 0; i < 1000; i++) {
    long *p = GC_finalized_malloc(sizeof(long) * 4, &closure);
    if (p == NULL)
      return NULL;
    p[0] = 42;
  }
  return GC_malloc(1);
}

int main(void) {
  GC_INIT();
  for (unsigned long i = 0; i < debian_nrefs; i++)
    if (debian_refs[i] == NULL)
      return 2;
  GC_set_on_collection_event(on_event);
  GC_init_gcj_malloc(0, NULL);
  GC_init_finalized_malloc();

  void **gcj = GC_gcj_malloc(64, vtable);
  void *kind = GC_malloc_kind(48, GC_I_NORMAL);
  printf("gcj object: %s, vtable word %s\n", gcj ? "allocated" : "NULL",
         gcj && gcj[0] == vtable ? "set" : "wrong");
  printf("GC_malloc_kind: %s, size >= 48: %s\n", kind ? "allocated" : "NULL",
         GC_size(kind) >= 48 ? "yes" : "no");
  printf("GC_gcj_kind is a kind: %s\n", GC_gcj_kind > GC_I_NORMAL ? "yes" : "no");

  make_garbage();
  memset(events, 0, sizeof events);
  for (int r = 0; r < 4 && finalized < 900; r++) {
    GC_gcollect();
    GC_invoke_finalizers();
  }
  printf("collection events: START %s, END %s, same number: %s\n",
         events[GC_EVENT_START] ? "seen" : "missing",
         events[GC_EVENT_END] ? "seen" : "missing",
         events[GC_EVENT_START] == events[GC_EVENT_END] ? "yes" : "no");
  printf("finalized objects: %s\n", finalized >= 900 ? "most" : "few");

  struct GC_prof_stats_s st;
  size_t n = GC_get_prof_stats(&st, sizeof st);
  printf("GC_get_prof_stats: %s, gc_no %s\n",
         n == sizeof st ? "filled" : "short",
         st.gc_no == GC_get_gc_no() ? "agrees" : "differs");
  GC_alloc_lock();
  GC_alloc_unlock();
  GC_noop1((GC_word)gcj);
  printf("done\n");
  return 0;
}
