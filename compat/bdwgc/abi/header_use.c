/*
 * header_use.c -- uses every macro of spangc's bdwgc-compatible headers in
 * ordinary client code, so that abi_check.sh can check that they expand to
 * code that compiles cleanly (-Wall -Wextra -Werror -pedantic), as C99
 * and as C++, with and without GC_THREADS and GC_DEBUG.  Compiled only,
 * never linked or run.
 */
#include <gc.h>
#include <gc_typed.h>
#include <gc_mark.h>
#include <gc_inline.h>
#include <gc/gc_tiny_fl.h>

#include <string.h>

struct node {
  struct node *next;
  long value;
  char *name;
};

static void *tiny_fl[GC_TINY_FREELISTS];

static void GC_CALLBACK on_finalize(void *obj, void *cd) {
  (void)obj;
  (void)cd;
}

static void GC_CALLBACK on_warn(char *msg, GC_word arg) {
  (void)msg;
  (void)arg;
}

static void *GC_CALLBACK on_oom(size_t n) {
  (void)n;
  return 0;
}

static int GC_CALLBACK never_stop(void) { return 0; }

static void *GC_CALLBACK with_lock(void *cd) { return cd; }

static void *GC_CALLBACK with_base(struct GC_stack_base *sb, void *arg) {
  (void)sb;
  return arg;
}

static struct GC_ms_entry *mark_node(GC_word *addr, struct GC_ms_entry *top,
                                     struct GC_ms_entry *limit, GC_word env) {
  struct node *n = (struct node *)addr;
  (void)env;
  top = GC_MARK_AND_PUSH(n->next, top, limit, (void **)&n->next);
  return GC_MARK_AND_PUSH(n->name, top, limit, (void **)&n->name);
}

static void GC_CALLBACK push_more(void) {
  static void *extra[4];
  GC_push_all(extra, extra + 4);
}

#ifdef GC_THREADS
static void *thread_main(void *arg) { return arg; }
#endif

int header_use(void);

int header_use(void) {
  struct node *n, *m;
  void *r, *list;
  GC_word bm[GC_BITMAP_SIZE(struct node)] = {0};
  GC_descr d;
  GC_finalization_proc ofn = 0;
  void *ocd = 0;
  struct GC_stack_base sb;
  GC_word heap, freeb, unmapped, since, total;
  GC_hidden_pointer hidden;
  unsigned kind, proc;
  void **fl;
  char *s;
  int rc = 0;

  GC_INIT();
  GC_set_warn_proc(on_warn);
  GC_set_oom_fn(on_oom);

  n = GC_NEW(struct node);
  m = (struct node *)GC_MALLOC(sizeof *m);
  if (n == 0 || m == 0)
    return 1;
  n->next = m;
  n->name = GC_STRDUP("node");
  s = GC_STRNDUP("abcdef", 3);
  m->name = (char *)GC_MALLOC_ATOMIC(16);
  strcpy(m->name, s ? s : "x");
  r = GC_MALLOC_UNCOLLECTABLE(32);
  GC_FREE(r);
  r = GC_MALLOC_ATOMIC_UNCOLLECTABLE(32);
  GC_FREE(r);
  r = GC_MALLOC_IGNORE_OFF_PAGE(1 << 20);
  r = GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(1 << 20);
  r = GC_REALLOC(r, 64);
  r = GC_MALLOC_STUBBORN(8);
  GC_CHANGE_STUBBORN(r);
  GC_END_STUBBORN_CHANGE(r);
  (void)GC_NEW_ATOMIC(double);
  (void)GC_NEW_UNCOLLECTABLE(long);
  (void)GC_NEW_STUBBORN(int);
  list = GC_malloc_many(32);
  if (list != 0)
    list = GC_NEXT(list);
  rc += GC_posix_memalign(&r, 64, 100);
  r = GC_memalign(64, 100);
  GC_PTR_STORE_AND_DIRTY(&n->next, m);
  GC_PTR_STORE(&m->next, n);
  {
    char *p = n->name;
    char *q = GC_PTR_ADD(p, 1);
    (void)GC_PRE_INCR(p, 1);
    (void)GC_POST_INCR(p);
    (void)GC_POST_DECR(p);
    (void)q;
  }

  GC_REGISTER_FINALIZER(n, on_finalize, 0, &ofn, &ocd);
  GC_REGISTER_FINALIZER_IGNORE_SELF(n, on_finalize, 0, 0, 0);
  GC_REGISTER_FINALIZER_NO_ORDER(n, 0, 0, &ofn, &ocd);
  GC_REGISTER_FINALIZER_UNREACHABLE(n, on_finalize, n, 0, 0);
  hidden = GC_HIDE_POINTER(m);
  rc += GC_GENERAL_REGISTER_DISAPPEARING_LINK((void **)&n->next, m);
  rc += GC_register_disappearing_link((void **)&m->next);
  rc += GC_move_disappearing_link((void **)&n->next, (void **)&m->next);
  rc += GC_unregister_disappearing_link((void **)&m->next);
  if (GC_REVEAL_POINTER(hidden) != (void *)m)
    rc++;
  GC_REGISTER_DISPLACEMENT(8);
  GC_reachable_here(n);
  if (GC_should_invoke_finalizers())
    rc += GC_invoke_finalizers();

  GC_set_bit(bm, GC_WORD_OFFSET(struct node, next));
  GC_set_bit(bm, GC_WORD_OFFSET(struct node, name));
  if (GC_get_bit(bm, GC_WORD_OFFSET(struct node, value)))
    rc++;
  d = GC_make_descriptor(bm, GC_WORD_LEN(struct node));
  n = (struct node *)GC_MALLOC_EXPLICITLY_TYPED(sizeof(struct node), d);
  n = (struct node *)GC_CALLOC_EXPLICITLY_TYPED(4, sizeof(struct node), d);
  r = GC_malloc_explicitly_typed_ignore_off_page(sizeof(struct node), d);

  GC_MALLOC_WORDS(r, 3, tiny_fl);
  GC_MALLOC_ATOMIC_WORDS(r, 5, tiny_fl);
  GC_CONS(r, n, m, tiny_fl);
  GC_FAST_MALLOC_GRANS(r, 2, tiny_fl, 0, GC_I_NORMAL,
                       GC_generic_malloc(2 * GC_GRANULE_BYTES, GC_I_NORMAL),
                       *(void **)r = 0);

  fl = GC_new_free_list();
  proc = GC_new_proc(mark_node);
  kind = GC_new_kind(fl, GC_MAKE_PROC(proc, 0), 0, 1);
  r = GC_generic_malloc(sizeof(struct node), (int)kind);
  r = GC_generic_malloc_ignore_off_page(4096, GC_I_PTRFREE);
  r = GC_generic_malloc_uncollectable(64, GC_I_NORMAL);
  GC_set_push_other_roots(push_more);
  if (GC_get_push_other_roots() != push_more)
    rc++;
  if (GC_is_marked(n))
    GC_clear_mark_bit(n);

  rc += GC_try_to_collect(never_stop);
  GC_gcollect();
  GC_disable();
  GC_enable();
  r = GC_call_with_alloc_lock(with_lock, n);
  r = GC_call_with_stack_base(with_base, n);
  rc += GC_get_stack_base(&sb);
  GC_get_heap_usage_safe(&heap, &freeb, &unmapped, &since, &total);
  if (GC_get_heap_size() < GC_get_free_bytes())
    rc++;
  GC_set_free_space_divisor(GC_get_free_space_divisor() + 1);
  GC_set_time_limit(GC_TIME_UNLIMITED);
  if (GC_get_version() != ((GC_VERSION_MAJOR << 16) |
                           (GC_VERSION_MINOR << 8) | GC_VERSION_MICRO))
    rc++;

#ifdef GC_THREADS
  {
    pthread_t t;
    void *ret;
    if (pthread_create(&t, 0, thread_main, n) == 0) {
      rc += pthread_join(t, &ret);
    }
    rc += GC_get_parallel();
    rc += GC_thread_is_registered();
    if (GC_get_suspend_signal() < 0)
      rc++;
    (void)GC_get_thr_restart_signal;
    (void)GC_register_my_thread;
    (void)GC_unregister_my_thread;
    (void)GC_allow_register_threads;
    (void)pthread_detach;
    (void)pthread_exit;
#if defined(_GNU_SOURCE) \
    || (defined(_POSIX_C_SOURCE) && _POSIX_C_SOURCE >= 199506L)
    (void)pthread_sigmask; /* declared only where sigset_t exists */
#endif
    (void)dlopen;
  }
#endif
  return rc + (r == 0);
}
