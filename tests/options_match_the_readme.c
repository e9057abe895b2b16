// labels: api
/* The settings cannot drift from their documentation: the README's table
 * of environment variables has exactly the rows of options.c's table, in
 * the same order and with the same words, and every name in that table is
 * a SPANGC_ variable that sgc_option reads. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "spangc-int.h"

int main(void) {
  /* The README sits beside tests/: this file's path locates it. */
  char path[4096];
  snprintf(path, sizeof path, "%s", __FILE__);
  char *slash = strrchr(path, '/');
  CHECKF(slash != NULL, "cannot locate the source tree from %s", __FILE__);
  snprintf(slash, sizeof path - (size_t)(slash - path), "/../README.md");
  FILE *f = fopen(path, "r");
  CHECKF(f != NULL, "cannot open %s", path);

  const sgc_option_def *opt;
  size_t n = sgc_options(&opt), k = 0;
  char line[4096];
  int bad = 0;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "| `SPANGC_", 10) != 0)
      continue;
    line[strcspn(line, "\n")] = 0;
    char *name = line + 3, *tick = strchr(name, '`');
    CHECKF(tick != NULL, "README row without a closing backquote: %s", line);
    *tick = 0;
    const char *text = tick + 4; /* past "` | " */
    size_t len = strlen(text);
    CHECKF(len >= 2 && strcmp(text + len - 2, " |") == 0,
           "README row for %s does not end with \" |\"", name);
    if (k >= n) {
      printf("README documents %s, which options.c does not have\n", name);
      bad++;
      continue;
    }
    if (strcmp(name, opt[k].name) != 0) {
      printf("README row %zu is %s, options.c has %s there\n", k + 1, name,
             opt[k].name);
      bad++;
    } else if (strlen(opt[k].readme) != len - 2 ||
               strncmp(opt[k].readme, text, len - 2) != 0) {
      printf("README and options.c say different things of %s:\n  README:  "
             "%.*s\n  options: %s\n",
             name, (int)(len - 2), text, opt[k].readme);
      bad++;
    }
    k++;
  }
  fclose(f);
  for (; k < n; k++) {
    printf("options.c has %s, which the README does not document\n",
           opt[k].name);
    bad++;
  }
  for (size_t i = 0; i < n; i++) {
    CHECKF(strncmp(opt[i].name, "SPANGC_", 7) == 0, "%s", opt[i].name);
    setenv(opt[i].name, "x", 1);
    CHECKF(sgc_option(opt[i].name) != NULL &&
               strcmp(sgc_option(opt[i].name), "x") == 0,
           "sgc_option(%s) does not read the environment", opt[i].name);
    unsetenv(opt[i].name);
  }
  CHECKF(bad == 0, "%d differences between the README and options.c", bad);
  printf("%zu settings, README and options.c agree\n", n);
  return 0;
}
