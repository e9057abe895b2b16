#!/usr/bin/env bash
# lockrank-doc.sh [--print] SRCDIR — the lock table of docs/design.md is
# the table of src/lockrank.h (SGC_LOCK_RANKS).
#
# With --print: prints the table design.md must hold (rank, lock, what it
# guards, in the one order), for pasting between the markers
# "<!-- lockrank table: begin -->" and "<!-- lockrank table: end -->".
# Without: fails when
#   - design.md's table differs from it (a lock added, removed, renamed or
#     moved in the source without the document, or the other way round);
#   - a runtime source (src/, or the bdwgc layer linked with it into
#     libgc.so.1, compat/bdwgc/src/) takes or declares a lock with a bare
#     pthread call (pthread_mutex_t, pthread_rwlock_t, pthread_spinlock_t,
#     their lock, trylock, rdlock and wrlock calls, a recursive mutex's
#     initialiser) instead of the ranked types of lockrank.h;
#   - a function named *_locked does not assert, first thing, that its
#     lock is held (SGC_ASSERT_HELD).
set -u
print=0
if [ "${1:-}" = --print ]; then print=1; shift; fi
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
src=src/lockrank.h
doc=docs/design.md

table() {
  echo '| rank | lock | guards |'
  echo '|---|---|---|'
  sed -n 's/^  X([A-Z_]*, "\([^"]*\)", "\([^"]*\)").*$/\1|\2/p' "$src" |
    awk -F'|' '{ printf "| %d | `%s` | %s |\n", NR, $1, $2 }'
}
if [ $print = 1 ]; then table; exit 0; fi

fail=0
want=$(table)
n=$(grep -c '^  X(' "$src")
if [ "$(echo "$want" | tail -n +3 | grep -c .)" != "$n" ]; then
  echo "lockrank-doc: $src has $n X( lines but only some parse as X(ID, \"name\", \"guards\")"
  fail=1
fi
have=$(sed -n '/<!-- lockrank table: begin -->/,/<!-- lockrank table: end -->/p' "$doc" |
       grep '^|')
if [ "$want" != "$have" ]; then
  echo "lockrank-doc: the lock table of $doc differs from $src (< source, > document):"
  diff <(echo "$want") <(echo "$have") | sed 's/^/    /'
  echo "lockrank-doc: 'bash tests/lockrank-doc.sh --print' prints the table"
  fail=1
fi

bare=$(grep -n 'pthread_mutex_t \|pthread_rwlock_t \|pthread_spinlock_t \|pthread_mutex_lock(\|pthread_mutex_trylock(\|pthread_mutex_timedlock(\|pthread_rwlock_rdlock(\|pthread_rwlock_wrlock(\|pthread_rwlock_try\|pthread_rwlock_timed\|pthread_spin_lock(\|pthread_spin_trylock(\|pthread_cond_wait(\|pthread_cond_timedwait(\|PTHREAD_RECURSIVE_MUTEX_INITIALIZER' \
         src/*.c src/*.h compat/bdwgc/src/*.c compat/bdwgc/src/*.h |
       grep -v '^src/lockrank\.[ch]:')
if [ -n "$bare" ]; then
  echo "lockrank-doc: runtime locks taken or declared without a rank (use sgc_mutex, sgc_rmutex, sgc_rwlock, sgc_lock, sgc_cond_wait; lockrank.h):"
  echo "$bare" | sed 's/^/    /'
  fail=1
fi

# Each definition of a *_locked function: SGC_ASSERT_HELD within the
# first three lines of its body.
unasserted=$(awk '
  FNR == 1 { want = 0 }
  /^[a-z].*[a-z_]*_locked\(/ && !/;[ \t]*$/ {
    name = $0; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name)
    want = 1; body = -1; next_file_line = FNR
  }
  want && body < 0 && /\{[ \t]*$/ { body = 0; next }
  want && body >= 0 {
    if ($0 ~ /SGC_ASSERT_HELD\(/) { want = 0; next }
    if (++body >= 3) { print FILENAME ":" next_file_line ": " name; want = 0 }
  }' src/*.c compat/bdwgc/src/*.c)
if [ -n "$unasserted" ]; then
  echo "lockrank-doc: these _locked functions do not assert their lock is held:"
  echo "$unasserted" | sed 's/^/    /'
  fail=1
fi

[ $fail = 0 ] && echo "lockrank-doc: $n ranked locks; $doc agrees; every lock of src/ and compat/bdwgc/src/ is ranked"
exit $fail
