#!/usr/bin/env bash
# design-rules.sh SRCDIR — docs/design.md tied to the code.
#
# Protocol rules in design.md carry a tag, written "[rule:NAME]" where the
# rule is stated; the code cites it as "rule:NAME" (in a comment) at each
# place the rule is kept.  This check fails when:
#   - the code cites a tag design.md does not define (a rule renamed or
#     dropped from the document while the code still relies on it);
#   - design.md defines a tag no code cites (a rule nobody keeps, or whose
#     keeper lost its citation);
#   - design.md names, in backquotes, an identifier (a function, variable,
#     field, test or file name with an underscore, or a source file) that
#     appears nowhere in the sources: the document has drifted.
set -u
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
doc=docs/design.md
code_files=$(ls src/*.[ch] include/*.h compat/bdwgc/src/*.[ch] \
  compat/bdwgc/include/*.h tests/*.[ch] compat/bdwgc/tests/*.c \
  bench/*.c bench/*.sh bench/peers/*.c CMakeLists.txt tests/CMakeLists.txt \
  compat/bdwgc/CMakeLists.txt tests/run-all.sh fuzz/*.c fuzz/*.sh 2>/dev/null)
fail=0

defined=$(grep -o '\[rule:[a-z0-9-]*\]' "$doc" | sed 's/^\[rule://; s/\]$//' | sort -u)
cited=$(grep -ho 'rule:[a-z0-9-]*' $code_files | grep -v '^rule:$' |
        sed 's/^rule://' | sort -u)
for t in $(comm -13 <(echo "$defined") <(echo "$cited")); do
  echo "design-rules: the code cites rule:$t, which $doc does not define:"
  grep -n "rule:$t\b" $code_files | sed 's/^/    /'
  fail=1
done
for t in $(comm -23 <(echo "$defined") <(echo "$cited")); do
  echo "design-rules: $doc defines [rule:$t] but no code cites it"
  fail=1
done

# Identifiers and file names the document names.
all=$(cat $code_files)
tests=$(ls tests/*.c compat/bdwgc/tests/*.c 2>/dev/null | xargs -n1 basename |
        sed 's/\.c$//')
names=$(grep -o '`[A-Za-z_][A-Za-z0-9_]*\(()\)\?`' "$doc" | tr -d '`()' | sort -u)
# One pass finds most names (grep -o prints the longest match at each
# place, so a name found only inside a longer one goes to the per-name
# grep below, as does every name the pass missed).
names=$(grep -- _ <<<"$names")
found=$(grep -ohFf <(echo "$names") <<<"$all" | sort -u)
for n in $(comm -23 <(echo "$names") <(echo "$found")); do
  if ! grep -q -- "$n" <<<"$all" && ! grep -qx -- "$n" <<<"$tests"; then
    echo "design-rules: $doc names \`$n\`, which no source file has"
    fail=1
  fi
done
for f in $(grep -o '`src/[a-z_]*\.[ch]`\|`[a-z_]*\.c`' "$doc" | tr -d '`' | sort -u); do
  [ -e "$f" ] || [ -e "src/$f" ] || [ -e "tests/$f" ] || [ -e "bench/$f" ] ||
    [ -e "compat/bdwgc/src/$f" ] || [ -e "bench/peers/$f" ] || {
      echo "design-rules: $doc names the file $f, which does not exist"
      fail=1
    }
done

# Settings are read in one place (src/options.c: sgc_option).
if grep -n 'getenv("SPANGC_' src/*.c compat/bdwgc/src/*.c | grep -v '^src/options.c:'; then
  echo "design-rules: the lines above read a SPANGC_ variable without sgc_option"
  fail=1
fi

# The depth of a no-preempt region changes only through the entries and
# exits of world-int.h (part of spangc-int.h), each of which looks at the fork barrier: a depth
# restored by hand let a thread run on into the allocator during a fork
# (world_fork_holds_a_thread_stepping_back_into_the_allocator).  The one
# exception, world_park_pending's level, says on its lines that it is not
# an entry.
if grep -nE '(->|\.)nopreempt *(=[^=]|\+\+|--|\+=|-=)|(\+\+|--)[a-z_>.-]*nopreempt\b' \
    src/*.c compat/bdwgc/src/*.c | grep -v 'a level of its own, not an entry'; then
  echo "design-rules: the lines above set a no-preempt depth outside world-int.h's nopreempt_ functions"
  fail=1
fi

n_def=$(echo "$defined" | grep -c .)
n_cit=$(grep -ho 'rule:[a-z0-9-]*' $code_files | grep -vc '^rule:$')
echo "design-rules: $n_def rules in $doc, $n_cit citations in the code"
exit $fail
