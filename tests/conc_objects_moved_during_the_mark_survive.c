// labels: gc threads
/* Mostly-concurrent marking (SPANGC_CONCURRENT=1, set here): while
 * collections mark concurrently (sgc_collect runs the concurrent phase on
 * its thread while the others run), mutator threads keep moving the only
 * references to objects between heap objects the markers may already have
 * scanned: they cut the tail of one list and splice it onto another, keep
 * a node only in a local variable for a while, replace nodes with new
 * ones (not marked: allocated during the mark, they are found from the
 * written pages) and free the old ones with sgc_free, store with
 * memcpy, and write a large object far from its first page; short-lived
 * threads are created and exit meanwhile.  Every node carries a pointer-
 * free tag blob: a node freed while reachable, and its slot reused, shows
 * as a wrong tag.  At the end every list is walked and every node
 * counted.  Run with SPANGC_DEBUG=verify=1 by make check's concurrent
 * configuration, where every final stop is checked against a full mark.
 * Catches: pages written during the mark not rescanned (dirty.c,
 * markroot.c), an object allocated during the mark reachable only
 * through a page the final stop did not list, free slots left marked,
 * deferred large frees. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gctest.h"
#include "spangc.h"

#define NLIST 64
#define NMUT 2

typedef blob_node node;

static node *volatile heads[NLIST];
static pthread_mutex_t list_lock[NLIST];
static uint64_t *volatile big; /* a large object holding node pointers */
#define BIG_WORDS (64 << 10)   /* 512 KiB */
static volatile int stop;
static void *sink; /* garbage goes through here (atomic) */

static node *new_node(void) { return blob_node_new(sizeof(node)); }
static void check_node(const node *n) { blob_node_check(n); }

static void lock2(int a, int b) {
  if (a > b) {
    int t = a;
    a = b;
    b = t;
  }
  lock_blocking(&list_lock[a]);
  if (b != a)
    lock_blocking(&list_lock[b]);
}
static void unlock2(int a, int b) {
  pthread_mutex_unlock(&list_lock[a]);
  if (b != a)
    pthread_mutex_unlock(&list_lock[b]);
}

/* Cut list a after its k-th node and append the tail to list b. */
static void splice(int a, int b, uint64_t k) {
  if (a == b)
    return;
  lock2(a, b);
  node *p = heads[a];
  for (uint64_t i = 0; p && p->next && i < k; i++)
    p = p->next;
  if (p && p->next) {
    node *tail = p->next;
    p->next = NULL;
    node *q = heads[b];
    if (q == NULL) {
      heads[b] = tail;
    } else {
      while (q->next)
        q = q->next;
      q->next = tail;
    }
  }
  unlock2(a, b);
}

/* Take list a's first node out, hold it only locally while allocating,
 * then put it back in front of list b (memcpy for the link). */
static void carry(int a, int b, uint64_t *s) {
  lock2(a, b);
  node *n = heads[a];
  if (n)
    heads[a] = n->next;
  unlock2(a, b);
  if (n == NULL)
    return;
  for (int i = 0; i < 64; i++) /* garbage while n is held in a register */
    __atomic_store_n(&sink, sgc_alloc(16 + (xorshift64(s) & 63)),
                     __ATOMIC_RELAXED);
  check_node(n);
  lock_blocking(&list_lock[b]);
  node *h = heads[b];
  memcpy(&n->next, &h, sizeof h);
  heads[b] = n;
  pthread_mutex_unlock(&list_lock[b]);
}

/* Replace list a's first node by a new one; free the old one. */
static void replace(int a) {
  node *fresh = new_node();
  lock_blocking(&list_lock[a]);
  node *old = heads[a];
  if (old) {
    fresh->next = old->next;
    heads[a] = fresh;
  }
  pthread_mutex_unlock(&list_lock[a]);
  if (old) {
    check_node(old);
    sgc_free(old->blob);
    sgc_free(old);
  }
}

/* Swap a node between big (written far from its first page) and list a. */
static void through_big(int a, uint64_t *s) {
  size_t slot = (size_t)(xorshift64(s) % (BIG_WORDS / 512)) * 512 + 511;
  lock_blocking(&list_lock[a]);
  node *n = heads[a];
  if (n) {
    heads[a] = n->next;
    n->next = NULL;
  }
  /* Acquire-release: the node passes between two list locks through big,
   * and its link written under one is rewritten under the other. */
  node *m = (node *)__atomic_exchange_n(&big[slot], (uint64_t)(uintptr_t)n,
                                        __ATOMIC_ACQ_REL);
  if (m) {
    m->next = heads[a];
    heads[a] = m;
  }
  pthread_mutex_unlock(&list_lock[a]);
}

static void *short_lived(void *arg) {
  uint64_t s = (uint64_t)(uintptr_t)arg | 1;
  void *keep = NULL;
  for (int i = 0; i < 2000; i++) {
    void **p = sgc_alloc(32);
    CHECK(p != NULL);
    p[0] = keep;
    keep = (xorshift64(&s) & 7) ? keep : p;
  }
  return NULL;
}

static void *mutator(void *arg) {
  uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(uintptr_t)arg;
  for (long iter = 0; !__atomic_load_n(&stop, __ATOMIC_RELAXED); iter++) {
    int a = (int)(xorshift64(&s) % NLIST), b = (int)(xorshift64(&s) % NLIST);
    switch (xorshift64(&s) % 5) {
    case 0: splice(a, b, xorshift64(&s) % 64); break;
    case 1: carry(a, b, &s); break;
    case 2: replace(a); break;
    case 3: through_big(a, &s); break;
    default:
      for (int i = 0; i < 32; i++)
        __atomic_store_n(&sink, sgc_alloc(24 + (xorshift64(&s) & 127)),
                         __ATOMIC_RELAXED);
    }
    if (iter % 4096 == 0) {
      pthread_t t;
      CHECK(sgc_pthread_create(&t, NULL, short_lived, (void *)iter) == 0);
      sgc_enter_blocking();
      pthread_join(t, NULL);
      sgc_exit_blocking();
    }
  }
  return NULL;
}

int main(void) {
  if (!conc_init_or_skip())
    return 0;
  for (int i = 0; i < NLIST; i++)
    pthread_mutex_init(&list_lock[i], NULL);
  int len = (int)(1500 * test_scale());
  if (len < 100)
    len = 100;
  for (int i = 0; i < NLIST; i++)
    for (int k = 0; k < len; k++) {
      node *n = new_node();
      n->next = heads[i];
      heads[i] = n;
    }
  big = sgc_alloc(BIG_WORDS * sizeof(uint64_t));
  CHECK(big != NULL);
  int64_t total = (int64_t)NLIST * len;
  pthread_t t[NMUT];
  for (int i = 0; i < NMUT; i++)
    CHECK(sgc_pthread_create(&t[i], NULL, mutator, (void *)(uintptr_t)(i + 1)) ==
          0);
  int rounds = (int)(40 * test_scale());
  if (rounds < 8)
    rounds = 8;
  for (int r = 0; r < rounds; r++)
    sgc_collect();
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  for (int i = 0; i < NMUT; i++) {
    sgc_enter_blocking();
    pthread_join(t[i], NULL);
    sgc_exit_blocking();
  }
  sgc_collect();
  sgc_stats st;
  int64_t seen = 0;
  for (int i = 0; i < NLIST; i++)
    for (node *n = heads[i]; n; n = n->next) {
      check_node(n);
      seen++;
    }
  for (size_t w = 0; w < BIG_WORDS; w++)
    if (big[w]) {
      node *n = (node *)(uintptr_t)big[w];
      check_node(n);
      CHECK(n->next == NULL);
      seen++;
    }
  sgc_read_stats(&st);
  printf("%llu concurrent collections of %llu; %lld nodes kept of %lld\n",
         (unsigned long long)st.num_concurrent_gc,
         (unsigned long long)st.num_gc, (long long)seen, (long long)total);
  CHECKF(seen == total, "%lld nodes reachable, %lld made", (long long)seen,
         (long long)total);
  CHECK(st.num_concurrent_gc >= (uint64_t)rounds);
  return 0;
}
