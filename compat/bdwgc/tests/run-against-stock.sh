#!/bin/sh
# Build every bdwgc_*.c test against the stock bdwgc installed on this
# machine (libgc-dev: /usr/include/gc.h, /usr/include/gc/, -lgc) and run it.
# This validates the tests themselves: a test that fails here is wrong,
# except a test of something bdwgc does not do, marked on a line
# "// stock-fails: reason": that one must fail here (which shows it can
# fail at all) and pass on spangc.
# Usage: run-against-stock.sh [-k] [test-name-substring...]
#   -k   keep going (default); the exit status is 1 if any test failed.
# Environment: CC (default cc), OUT (build dir, default a temporary one),
#   STOCK_CFLAGS / STOCK_LIBS to point at another bdwgc installation.
set -u
here=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-cc}
STOCK_CFLAGS=${STOCK_CFLAGS:-}
STOCK_LIBS=${STOCK_LIBS:--lgc}
OUT=${OUT:-$(mktemp -d /tmp/bdwgc-stock.XXXXXX)}
mkdir -p "$OUT"
[ "${1:-}" = "-k" ] && shift
pass=0; fail=0; failed=""
for src in "$here"/bdwgc_*.c; do
  name=$(basename "$src" .c)
  if [ $# -gt 0 ]; then
    want=0
    for pat in "$@"; do case $name in *"$pat"*) want=1;; esac; done
    [ $want = 1 ] || continue
  fi
  if ! $CC -O2 -g -Wall -Wextra -Wno-unused-parameter \
       -Wno-deprecated-declarations -DGC_THREADS $STOCK_CFLAGS \
       -o "$OUT/$name" "$src" $STOCK_LIBS -lpthread -ldl 2>"$OUT/$name.build"; then
    echo "BUILD FAIL $name"; sed 's/^/    /' "$OUT/$name.build"
    fail=$((fail + 1)); failed="$failed $name"; continue
  fi
  start=$(date +%s.%N)
  if grep -q '^// stock-fails:' "$src"; then
    if timeout 120 "$OUT/$name" >"$OUT/$name.out" 2>&1; then
      echo "FAIL $name (marked stock-fails, but passed on stock)"
      fail=$((fail + 1)); failed="$failed $name"
    else
      printf 'ok   %-55s fails on stock, as marked\n' "$name"
      pass=$((pass + 1))
    fi
    continue
  fi
  if timeout 120 "$OUT/$name" >"$OUT/$name.out" 2>&1; then
    t=$(echo "$(date +%s.%N) - $start" | bc)
    printf 'ok   %-55s %5.2fs\n' "$name" "$t"
    pass=$((pass + 1))
  else
    rc=$?
    echo "FAIL $name (exit $rc)"; tail -n 20 "$OUT/$name.out" | sed 's/^/    /'
    fail=$((fail + 1)); failed="$failed $name"
  fi
done
echo "$pass passed, $fail failed${failed:+:$failed}  (binaries and logs in $OUT)"
[ $fail = 0 ]
