// labels: world
/* fork() while other threads allocate: the child (which has only the
 * forking thread) keeps a working heap — it allocates, collects, frees —
 * and the parent goes on undisturbed. */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "spangc-int.h"

static volatile int stop;

static void *churn(void *arg) {
  long n = 0;
  while (!stop) {
    long *p = sgc_alloc(64 + (n % 512));
    p[0] = n++;
    CHECK(p[0] == n - 1);
  }
  return NULL;
}

typedef struct node { struct node *next; long v; } node;

static int child_work(void) {
  node *keep = NULL;
  for (long i = 0; i < scaled(200000); i++) {
    node *n = sgc_alloc(sizeof *n);
    if (n == NULL)
      return 2;
    n->v = i;
    if (i % 10 == 0) {
      n->next = keep;
      keep = n;
    }
  }
  sgc_collect();
  sgc_collect();
  long expect = (scaled(200000) - 1) / 10 * 10;
  for (node *n = keep; n; n = n->next, expect -= 10)
    if (n->v != expect)
      return 3;
  sgc_heap_verify();
  return 0;
}

int main(void) {
  sgc_init();
  pthread_t t[3];
  for (int i = 0; i < 3; i++)
    CHECK(sgc_pthread_create(&t[i], NULL, churn, NULL) == 0);
  for (int round = 0; round < 5; round++) {
    usleep(20000);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
      _exit(child_work());
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "child status %d", status);
  }
  stop = 1;
  for (int i = 0; i < 3; i++)
    pthread_join(t[i], NULL);
  sgc_collect();
  printf("5 forks, children collected and verified\n");
  return 0;
}
