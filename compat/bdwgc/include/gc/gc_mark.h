/*
 * gc/gc_mark.h -- spangc's version of bdwgc's interface to the marker, for
 * language runtimes that describe their objects' layout to the collector:
 * object kinds, mark descriptors, mark procedures, root callbacks.
 *
 * The descriptor encoding below is bdwgc's and is compiled into clients;
 * spangc uses the same encoding internally.  A descriptor is one word
 * whose low GC_DS_TAG_BITS bits are a tag:
 *   GC_DS_LENGTH      the word is a byte count: scan that many bytes from
 *                     the object's start (a multiple of the pointer size);
 *   GC_DS_BITMAP      the other bits are a bitmap, most significant bit
 *                     first: it stands for the object's first word, the
 *                     next bit for the second word, and so on; a set bit
 *                     marks a word that may hold a pointer;
 *   GC_DS_PROC        GC_MAKE_PROC(index, env): call the mark procedure
 *                     registered under index, handing it env;
 *   GC_DS_PER_OBJECT  the real descriptor is stored in the object: at byte
 *                     offset (descr & ~GC_DS_TAGS) if that is non-negative
 *                     as a signed word; otherwise in the memory the
 *                     object's first word points to, at byte offset
 *                     -(signed)(descr & ~GC_DS_TAGS) - GC_INDIR_PER_OBJ_BIAS.
 *
 * Mark procedures run on spangc's marker threads, possibly several at
 * once, with the world stopped: they must not allocate, take locks, or
 * touch anything but the object and immutable data.
 */
#ifndef GC_MARK_H
#define GC_MARK_H

#ifndef GC_H
# include "gc.h"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Work a mark procedure should do per call, in bytes scanned, on
 * average; a procedure with more to do pushes itself again. */
#define GC_PROC_BYTES 100

/* A mark-stack entry.  Clients handle entries only through pointers
 * (GC_MARK_AND_PUSH, GC_mark_and_push); the one-word body is a
 * placeholder with bdwgc's public size, not the real layout.  The library
 * (GC_BUILD or NOT_GCBUILD defined) supplies its own definition. */
#if defined(GC_BUILD) || defined(NOT_GCBUILD)
struct GC_ms_entry;
#else
struct GC_ms_entry {
  void *opaque;
};
#endif

/* A mark procedure: called for an object whose descriptor is
 * GC_MAKE_PROC(index, env), with the object's address, the current top and
 * limit of the mark stack, and env.  It marks what the object references
 * (GC_MARK_AND_PUSH) and returns the new top.  Portable procedures cope
 * with being called on a free object (zeroed apart from its first word),
 * as bdwgc may do that. */
typedef struct GC_ms_entry *(*GC_mark_proc)(GC_word * /* addr */,
                                            struct GC_ms_entry * /* top */,
                                            struct GC_ms_entry * /* limit */,
                                            GC_word /* env */);

/* Mark procedure indices: GC_MAX_MARK_PROCS of them, the first
 * GC_RESERVED_MARK_PROCS set aside for well-known clients (index 0 for
 * gcj-style objects), so GC_new_proc hands out the others. */
#define GC_LOG_MAX_MARK_PROCS 6
#define GC_MAX_MARK_PROCS (1 << GC_LOG_MAX_MARK_PROCS)
#define GC_RESERVED_MARK_PROCS 8
#define GC_GCJ_RESERVED_MARK_PROC_INDEX 0

/* Descriptor tags (see the top of this file). */
#define GC_DS_TAG_BITS 2
#define GC_DS_TAGS ((1 << GC_DS_TAG_BITS) - 1)
#define GC_DS_LENGTH 0
#define GC_DS_BITMAP 1
#define GC_DS_PROC 2
#define GC_DS_PER_OBJECT 3
#define GC_INDIR_PER_OBJ_BIAS 0x10

/* Descriptor "call mark procedure proc_index with env": env above the
 * index bits, the index above the tag. */
#define GC_MAKE_PROC(proc_index, env) \
  (((((env) << GC_LOG_MAX_MARK_PROCS) | (proc_index)) << GC_DS_TAG_BITS) \
   | GC_DS_PROC)

/* Bounds that enclose every heap object, now and after future growth.
 * spangc: fixed at initialisation (spangc reserves its whole arena up
 * front), so they never change afterwards. */
GC_API void *GC_least_plausible_heap_addr;
GC_API void *GC_greatest_plausible_heap_addr;

/* For mark procedures: if obj is a heap object not yet marked, mark it and
 * schedule its contents for scanning.  src is where obj was found.  Values
 * that are not heap pointers are ignored.  Returns the new top of the mark
 * stack; overflow is handled inside. */
GC_API struct GC_ms_entry *GC_CALL GC_mark_and_push(
    void * /* obj */, struct GC_ms_entry * /* mark_stack_ptr */,
    struct GC_ms_entry * /* mark_stack_limit */, void ** /* src */);

/* GC_mark_and_push with a quick inline rejection of values outside the
 * heap bounds. */
#define GC_MARK_AND_PUSH(obj, msp, lim, src) \
  ((GC_word)(obj) >= (GC_word)GC_least_plausible_heap_addr \
       && (GC_word)(obj) <= (GC_word)GC_greatest_plausible_heap_addr \
   ? GC_mark_and_push(obj, msp, lim, src) \
   : (msp))

/* A new free-list array to pass to GC_new_kind.
 * spangc: the array only identifies the kind; spangc keeps its own free
 * lists and never stores objects in it. */
GC_API void **GC_CALL GC_new_free_list(void);

/* A new object kind whose objects are scanned according to the descriptor
 * template; with add_size_to_descriptor (0 or 1) the object's size in
 * bytes is added to the template first; clear_new_objects (0 or 1) asks
 * for zeroed objects.  Returns the kind number, for GC_generic_malloc.
 * spangc: objects of new kinds are always zeroed; running out of kinds, or
 * a GC_DS_PROC template naming an unregistered procedure, aborts. */
GC_API unsigned GC_CALL GC_new_kind(void ** /* free_list */,
                                    GC_word /* mark_descriptor_template */,
                                    int /* add_size_to_descriptor */,
                                    int /* clear_new_objects */)
    GC_ATTR_NONNULL(1);

/* Register a mark procedure; returns its index for GC_MAKE_PROC (never
 * below GC_RESERVED_MARK_PROCS).  spangc: aborts when all are taken. */
GC_API unsigned GC_CALL GC_new_proc(GC_mark_proc);

/* An object of lb bytes and kind knd (GC_I_PTRFREE, GC_I_NORMAL, or a kind
 * from GC_new_kind). */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_generic_malloc(size_t /* lb */, int /* knd */);

/* The same, for a large object kept alive by pointers to its first page.
 * spangc: identical to GC_generic_malloc. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_generic_malloc_ignore_off_page(size_t /* lb */, int /* knd */);

/* The same, but the object is never collected (it lives until GC_free)
 * and is scanned like a root.
 * spangc: only for GC_I_PTRFREE, GC_I_NORMAL and kinds 2 and 3
 * (uncollectable, pointer-free uncollectable); a kind from GC_new_kind
 * aborts. */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_generic_malloc_uncollectable(size_t /* lb */, int /* knd */);

/* Start-of-collection hook: called before every collection.  It must not
 * allocate nor call GC_ functions that could block.  May be NULL. */
typedef void (GC_CALLBACK *GC_start_callback_proc)(void);
GC_API void GC_CALL GC_set_start_callback(GC_start_callback_proc);
GC_API GC_start_callback_proc GC_CALL GC_get_start_callback(void);

/* Mark bit of the object that contains the argument.  For use inside
 * mark procedures and root callbacks (or with the allocation lock held).
 * GC_is_marked returns 1 or 0. */
GC_API int GC_CALL GC_is_marked(const void *) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_clear_mark_bit(const void *) GC_ATTR_NONNULL(1);
GC_API void GC_CALL GC_set_mark_bit(const void *) GC_ATTR_NONNULL(1);

/* For root callbacks and mark procedures: treat every word of
 * [bottom, top) as a root for this collection.  bdwgc's
 * GC_push_conditional with all == 0 may push only the parts changed since
 * the last collection, and GC_push_all_eager scans the range at once.
 * spangc: all three schedule the whole range, like GC_push_all. */
GC_API void GC_CALL GC_push_all(void * /* bottom */, void * /* top */);
GC_API void GC_CALL GC_push_all_eager(void * /* bottom */, void * /* top */);
GC_API void GC_CALL GC_push_conditional(void * /* bottom */, void * /* top */,
                                        int /* all */);

/* Root callback: called once per collection while the roots are marked,
 * with the world stopped; it reports extra roots with GC_push_all.  A
 * callback installed with the setter should call the one it replaced
 * (from the getter). */
typedef void (GC_CALLBACK *GC_push_other_roots_proc)(void);
GC_API void GC_CALL GC_set_push_other_roots(GC_push_other_roots_proc);
GC_API GC_push_other_roots_proc GC_CALL GC_get_push_other_roots(void);

/* The variants bdwgc calls with its allocation lock held; here the
 * same calls as without _inner (spangc takes its own locks). */
GC_API void **GC_CALL GC_new_free_list_inner(void);
GC_API unsigned GC_CALL GC_new_kind_inner(void ** /* free_list */,
                                          GC_word /* mark_descriptor */,
                                          int /* add_size_to_descriptor */,
                                          int /* clear_new_objects */)
    GC_ATTR_NONNULL(1);
GC_API unsigned GC_CALL GC_new_proc_inner(GC_mark_proc);

/* The bytes of the header in front of an object from a GC_debug_ call
 * (32 on spangc, as in Debian's bdwgc). */
GC_API GC_ATTR_CONST size_t GC_CALL GC_get_debug_header_size(void);
#define GC_USR_PTR_FROM_BASE(p) \
  ((void *)((char *)(p) + GC_get_debug_header_size()))
GC_API GC_ATTR_DEPRECATED
#ifdef GC_BUILD
  const
#endif
  size_t GC_debug_header_size;

/* An object of kind k, whichever kind (uncollectable ones included). */
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_generic_or_special_malloc(size_t /* size_in_bytes */, int /* kind */);
GC_API GC_ATTR_MALLOC GC_ATTR_ALLOC_SIZE(1) void *GC_CALL
    GC_debug_generic_or_special_malloc(size_t, int, GC_EXTRA_PARAMS);
#ifdef GC_DEBUG
# define GC_GENERIC_OR_SPECIAL_MALLOC(sz, knd) \
    GC_debug_generic_or_special_malloc(sz, knd, GC_EXTRAS)
#else
# define GC_GENERIC_OR_SPECIAL_MALLOC(sz, knd) \
    GC_generic_or_special_malloc(sz, knd)
#endif

/* The kind of the object p points into, and its size in *psize (if
 * psize is not NULL). */
GC_API int GC_CALL GC_get_kind_and_size(const void *, size_t * /* psize */)
    GC_ATTR_NONNULL(1);

/* A printer of objects of one kind, for heap dumps; kept, not used. */
typedef void(GC_CALLBACK *GC_describe_type_fn)(void * /* p */,
                                               char * /* out_buf */);
#define GC_TYPE_DESCR_LEN 40
GC_API void GC_CALL GC_register_describe_type_fn(int /* kind */,
                                                 GC_describe_type_fn);

/* Overwrites some of the stack below the caller's frame (where stale
 * pointers could keep objects alive), returns its argument. */
GC_API void *GC_CALL GC_clear_stack(void *);

/* spangc scans its finalizer tables itself: does nothing. */
GC_API void GC_CALL GC_push_finalizer_structures(void);

/* Calls proc(obj, size, client_data) for every object a collection
 * would find reachable; bdwgc wants the allocation lock held.  spangc:
 * not supported (the collector offers no walk of the heap): calls proc
 * for nothing and warns once. */
typedef void(GC_CALLBACK *GC_reachable_object_proc)(void * /* obj */,
                                                    size_t /* bytes */,
                                                    void * /* client_data */);
GC_API void GC_CALL GC_enumerate_reachable_objects_inner(
    GC_reachable_object_proc, void * /* client_data */) GC_ATTR_NONNULL(1);

/* Nonzero if p lies in a temporary root (spangc: never; it keeps no
 * temporary roots). */
GC_API int GC_CALL GC_is_tmp_root(void *);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GC_MARK_H */
