// labels: heap
/* Bad pointers abort, naming the call and the pointer: sgc_free of a stack
 * address, a global, malloc memory, an interior pointer, a free slot, a
 * double free (small and large); sgc_size of a non-heap pointer, an
 * interior pointer, a free slot; sgc_realloc of an interior pointer.  Each
 * runs in a child process (this program re-executed) whose stderr the
 * parent reads.  The documented non-fatal cases do not abort: NULL to
 * sgc_free and sgc_size, and overflowing or absurd sizes return NULL with
 * errno ENOMEM. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "spangc-int.h"

static char a_global[64];
static void *volatile keep;

/* Child side: do one bad call.  Prints "target=<%p>" first so the parent
 * knows which pointer the message must name. */
static void target(const void *p) {
  fprintf(stderr, "target=%p\n", p);
  fflush(stderr);
}

static int child(const char *what) {
  sgc_init();
  sgc_disable();
  int on_stack[4] = {0};
  if (!strcmp(what, "free-stack")) {
    target(&on_stack[1]);
    sgc_free(&on_stack[1]);
  } else if (!strcmp(what, "free-global")) {
    target(a_global);
    sgc_free(a_global);
  } else if (!strcmp(what, "free-malloc")) {
    char *m = malloc(100);
    target(m);
    sgc_free(m);
  } else if (!strcmp(what, "free-interior")) {
    char *p = sgc_alloc(100);
    keep = p;
    target(p + 16);
    sgc_free(p + 16);
  } else if (!strcmp(what, "free-interior-large")) {
    char *p = sgc_alloc(100000);
    keep = p;
    target(p + 8192);
    sgc_free(p + 8192);
  } else if (!strcmp(what, "free-slot")) {
    /* A fresh span of the 1408-byte class: slot 1 was never allocated. */
    char *p = sgc_alloc(1408);
    keep = p;
    target(p + 1408);
    sgc_free(p + 1408);
  } else if (!strcmp(what, "double-free")) {
    void *p = sgc_alloc(64);
    keep = p;
    sgc_free(p);
    target(p);
    sgc_free(p);
  } else if (!strcmp(what, "double-free-noscan")) {
    void *p = sgc_alloc_noscan(4000);
    keep = p;
    sgc_free(p);
    target(p);
    sgc_free(p);
  } else if (!strcmp(what, "double-free-large")) {
    void *p = sgc_alloc(200000);
    keep = p;
    sgc_free(p);
    target(p);
    sgc_free(p);
  } else if (!strcmp(what, "size-stack")) {
    target(&on_stack[2]);
    (void)sgc_size(&on_stack[2]);
  } else if (!strcmp(what, "size-global")) {
    target(a_global + 8);
    (void)sgc_size(a_global + 8);
  } else if (!strcmp(what, "size-interior")) {
    char *p = sgc_alloc(48);
    keep = p;
    target(p + 32);
    (void)sgc_size(p + 32);
  } else if (!strcmp(what, "size-slot")) {
    char *p = sgc_alloc(1408);
    keep = p;
    target(p + 2 * 1408);
    (void)sgc_size(p + 2 * 1408);
  } else if (!strcmp(what, "realloc-interior")) {
    char *p = sgc_alloc(256);
    keep = p;
    target(p + 16);
    (void)sgc_realloc(p + 16, 1000);
  } else if (!strcmp(what, "realloc-stack")) {
    target(&on_stack[0]);
    (void)sgc_realloc(&on_stack[0], 10);
  } else {
    fprintf(stderr, "unknown case %s\n", what);
    return 2;
  }
  fprintf(stderr, "survived\n");
  return 0;
}

static char *self_path;

/* Run case 'what' in a child; check it died of SIGABRT with a message
 * naming 'call' and the target pointer. */
static void expect_abort(const char *what, const char *call,
                         const char *also) {
  int fds[2];
  CHECK(pipe(fds) == 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 2);
    close(fds[1]);
    alarm(60); /* survives exec: a hung child dies of SIGALRM */
    char *argv[] = {self_path, (char *)"--child", (char *)what, NULL};
    execv("/proc/self/exe", argv);
    _exit(127);
  }
  close(fds[1]);
  char out[8192];
  size_t len = 0;
  ssize_t r;
  while ((r = read(fds[0], out + len, sizeof out - 1 - len)) > 0)
    len += (size_t)r;
  out[len] = 0;
  close(fds[0]);
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
         "%s: child %s %d, stderr:\n%s", what,
         WIFSIGNALED(status) ? "killed by signal" : "exited with",
         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), out);
  char *t = strstr(out, "target=");
  CHECKF(t != NULL, "%s: no target line in:\n%s", what, out);
  char ptr[64];
  CHECK(sscanf(t, "target=%63s", ptr) == 1);
  /* The library's message: a line after the target line. */
  char *msg = strchr(t, '\n');
  CHECK(msg != NULL);
  msg++;
  CHECKF(strstr(msg, call) != NULL, "%s: message does not name %s:\n%s",
         what, call, msg);
  CHECKF(strstr(msg, ptr) != NULL, "%s: message does not name %s:\n%s", what,
         ptr, msg);
  if (also)
    CHECKF(strstr(msg, also) != NULL, "%s: message does not say \"%s\":\n%s",
           what, also, msg);
  CHECKF(strstr(msg, "survived") == NULL, "%s", what);
}

static void non_fatal_cases(void) {
  sgc_free(NULL);
  CHECK(sgc_size(NULL) == 0);

  errno = 0;
  CHECK(sgc_calloc(SIZE_MAX / 2, 3) == NULL);
  CHECK(errno == ENOMEM);
  errno = 0;
  CHECK(sgc_calloc((size_t)1 << 33, (size_t)1 << 33) == NULL);
  CHECK(errno == ENOMEM);
  size_t absurd[] = {SIZE_MAX, SIZE_MAX - 4096, (size_t)1 << 50,
                     (size_t)1 << 47, (size_t)1 << 45, (size_t)1 << 40};
  for (size_t i = 0; i < sizeof absurd / sizeof absurd[0]; i++) {
    errno = 0;
    void *p = sgc_alloc(absurd[i]);
    CHECKF(p == NULL && errno == ENOMEM, "sgc_alloc(%zu): %p errno %d",
           absurd[i], p, errno);
    errno = 0;
    p = sgc_alloc_noscan(absurd[i]);
    CHECKF(p == NULL && errno == ENOMEM, "sgc_alloc_noscan(%zu): %p errno %d",
           absurd[i], p, errno);
  }
  /* A failed realloc leaves the object untouched. */
  char *p = sgc_alloc(100);
  CHECK(p != NULL);
  memset(p, 0x5a, 100);
  errno = 0;
  CHECK(sgc_realloc(p, SIZE_MAX) == NULL);
  CHECK(errno == ENOMEM);
  errno = 0;
  CHECK(sgc_realloc(p, (size_t)1 << 50) == NULL);
  CHECK(errno == ENOMEM);
  CHECK(sgc_base(p) == p && sgc_size(p) >= 100);
  for (int i = 0; i < 100; i++)
    CHECK(p[i] == 0x5a);
  sgc_free(p);
  /* The heap still works. */
  void *q = sgc_alloc(1 << 20);
  CHECK(q != NULL);
  sgc_free(q);
  sgc_heap_verify();
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "--child"))
    return child(argv[2]);
  self_path = argv[0];

  expect_abort("free-stack", "sgc_free", NULL);
  expect_abort("free-global", "sgc_free", NULL);
  expect_abort("free-malloc", "sgc_free", NULL);
  expect_abort("free-interior", "sgc_free", NULL);
  expect_abort("free-interior-large", "sgc_free", NULL);
  expect_abort("free-slot", "sgc_free", NULL);
  expect_abort("double-free", "sgc_free", "double free");
  expect_abort("double-free-noscan", "sgc_free", "double free");
  expect_abort("double-free-large", "sgc_free", NULL);
  expect_abort("size-stack", "sgc_size", NULL);
  expect_abort("size-global", "sgc_size", NULL);
  expect_abort("size-interior", "sgc_size", NULL);
  expect_abort("size-slot", "sgc_size", NULL);
  expect_abort("realloc-interior", "sgc_realloc", NULL);
  expect_abort("realloc-stack", "sgc_realloc", NULL);

  sgc_init();
  non_fatal_cases();
  printf("bad pointers abort with a message; bad sizes return ENOMEM\n");
  return 0;
}
