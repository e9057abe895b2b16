/* GC_strdup copies a whole string, GC_strndup at most n characters, always
 * terminated, into GC heap objects that live while referenced and are
 * collected when dropped. */
// labels: bdwgc
#include <gc.h>
#include "bdwgc_check.h"

#define NKEEP 300
#define NDROP 1000
char *kept[NKEEP];
char kept_src[NKEEP][300];
GC_hidden_pointer w_drop[NDROP];

static void make_src(char *buf, int i) {
  int len = (i * 37) % 280;
  for (int k = 0; k < len; k++) buf[k] = (char)('a' + (i + k) % 26);
  buf[len] = 0;
}

static NOINLINE void drop_some(void) {
  char buf[300];
  for (int i = 0; i < NDROP; i++) {
    make_src(buf, i);
    char *s = i % 2 ? GC_strdup(buf) : GC_strndup(buf, 10);
    CHECK(s != NULL, "allocation");
    watch(&w_drop[i], s);
  }
}

int main(void) {
  GC_INIT();
  char *e = GC_strdup("");
  CHECK(e && e[0] == 0 && GC_base(e) == e, "GC_strdup(\"\")");
  char *s = GC_strdup("hello, world");
  CHECK(s && strcmp(s, "hello, world") == 0, "GC_strdup copy wrong");
  CHECK(GC_base(s) == s && GC_size(s) >= 13, "GC_strdup result not a heap "
        "object of the string's size");
  const char *lit = "abcdefghij";
  char *t = GC_strndup(lit, 4);
  CHECK(t && strcmp(t, "abcd") == 0, "GC_strndup(.., 4) gave \"%s\"", t);
  CHECK(GC_base(t) == t, "GC_strndup result not a heap object");
  t = GC_strndup(lit, 100);
  CHECK(t && strcmp(t, lit) == 0, "GC_strndup with n > length");
  t = GC_strndup(lit, 0);
  CHECK(t && t[0] == 0, "GC_strndup(.., 0) is not \"\"");
  char notnul[3] = {'x', 'y', 'z'}; /* n bounds the read: no terminator */
  t = GC_strndup(notnul, 3);
  CHECK(t && strcmp(t, "xyz") == 0, "GC_strndup of unterminated array");
  CHECK(GC_strdup(lit) != lit, "GC_strdup returned its argument");

  for (int i = 0; i < NKEEP; i++) {
    make_src(kept_src[i], i);
    kept[i] = i % 2 ? GC_strdup(kept_src[i]) : GC_strndup(kept_src[i], 50);
    CHECK(kept[i] != NULL, "allocation");
  }
  drop_some();
  clear_stack();
  for (int round = 0; round < 20; round++) {
    collect(1);
    for (int i = 0; i < NKEEP; i++) {
      if (i % 2)
        CHECK(strcmp(kept[i], kept_src[i]) == 0, "string %d changed", i);
      else
        CHECK(strncmp(kept[i], kept_src[i], 50) == 0 &&
                  strlen(kept[i]) == (strlen(kept_src[i]) < 50
                                          ? strlen(kept_src[i]) : 50),
              "string %d changed", i);
    }
  }
  long dead = count_cleared(w_drop, NDROP);
  CHECK(mostly(dead, NDROP), "only %ld of %d dropped strings collected", dead,
        NDROP);
  PASS("bdwgc_strdup_strndup");
}
