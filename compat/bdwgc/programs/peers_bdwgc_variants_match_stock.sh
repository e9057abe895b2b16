#!/bin/sh
# peers_bdwgc_variants_match_stock.sh OURS_DIR OURS_INCLUDE_DIR PEERS_DIR [WORK_DIR]
#
# The peer benchmarks' -DUSE_BDWGC variants (bench/peers: binarytrees.c,
# gcbench.c, pause.c; each also with -DBDWGC_MARKERS) are built twice from the
# same, unchanged source:
#   stock: cc -DUSE_BDWGC x.c -lgc                (/usr/include/gc.h, Debian's libgc.so.1)
#   ours:  cc -DUSE_BDWGC -I OURS_INCLUDE_DIR x.c OURS_DIR/libgc.so.1, rpath OURS_DIR
# and run at small sizes; their "check:" lines must be identical.  The stock
# binaries are also run with LD_LIBRARY_PATH=OURS_DIR (binary drop-in), with the
# same requirement.
#
# Proofs that "ours" is ours: the compiler's dependency list (-M) names
# OURS_INCLUDE_DIR/gc.h, the loader's log (LD_DEBUG=libs) shows
# OURS_DIR/libgc.so.1 initialised, and (spangc's library) SPANGC_DEBUG=gctrace=1
# reports at least one collection.  Needs libgc-dev (stock headers, -lgc).
# CC (default cc) is the compiler.
set -u

note() { echo "peers test: $*"; }
[ $# -ge 3 ] || { echo "usage: $0 OURS_DIR OURS_INCLUDE_DIR PEERS_DIR [WORK_DIR]" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
CC=${CC:-cc}
INC=$(cd "$2" 2>/dev/null && pwd -P) || fail "include directory '$2' not found"
PEERS=$(cd "$3" 2>/dev/null && pwd -P) || fail "peers directory '$3' not found"
[ -f "$INC/gc.h" ] || fail "no gc.h in $INC"
for f in binarytrees gcbench pause; do [ -f "$PEERS/$f.c" ] || fail "no $f.c in $PEERS"; done
[ -f /usr/include/gc.h ] || [ -f /usr/include/gc/gc.h ] || fail "the stock bdwgc headers are missing (apt-get install libgc-dev; .ci/run installs it)"

if [ $# -ge 4 ]; then
  WORK=$4; rm -rf "$WORK"; mkdir -p "$WORK" || fail "cannot create $WORK"
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/peers-test.XXXXXX") || fail "mktemp failed"
  trap 'rm -rf "$WORK"' EXIT
fi

# A stock-built program, to find the stock library
printf '#include <gc.h>\nint main(void) { GC_INIT(); return GC_MALLOC(8) == 0; }\n' >"$WORK/probe.c"
$CC -O2 "$WORK/probe.c" -o "$WORK/probe" -lgc 2>"$WORK/probe.log" || fail "cannot build a program against the stock libgc: $(head -n 3 "$WORK/probe.log")"
setup_libs "$1" "$WORK/probe"
note "stock: $STOCK_REAL; ours: $OURS_REAL, headers $INC; compiler $CC"

# our library to link: OURS_DIR/libgc.so if there is one, else libgc.so.1 by
# its path (never "-L OURS_DIR -lgc" without libgc.so there, which would find
# the stock libgc.so silently)
if [ -e "$OURS_DIR/libgc.so" ]; then OURS_LINK="-L$OURS_DIR -lgc"; else OURS_LINK=$OURS_LIB; fi

CFLAGS="-O2 -Wall -Wno-unused-parameter"
bad=0
# build NAME DEFS SRC stock|ours  (function variables start with b_, r_, c_:
# POSIX sh has no locals)
build() {
  b_n=$1 b_defs=$2 b_src=$PEERS/$3.c b_how=$4
  if [ "$b_how" = stock ]; then
    # shellcheck disable=SC2086
    $CC $CFLAGS $b_defs "$b_src" -o "$WORK/$b_n" -lgc >"$WORK/$b_n.build.log" 2>&1 &&
      $CC $CFLAGS $b_defs -M "$b_src" >"$WORK/$b_n.deps" 2>>"$WORK/$b_n.build.log"
  else
    # shellcheck disable=SC2086
    $CC $CFLAGS $b_defs -I"$INC" "$b_src" -o "$WORK/$b_n" $OURS_LINK -Wl,-rpath,"$OURS_DIR" >"$WORK/$b_n.build.log" 2>&1 &&
      $CC $CFLAGS $b_defs -I"$INC" -M "$b_src" >"$WORK/$b_n.deps" 2>>"$WORK/$b_n.build.log"
  fi || { echo "FAIL: build of $b_n ($b_how) failed:" >&2; grep -E 'error|undefined' "$WORK/$b_n.build.log" | head -n 8 >&2; bad=1; return 1; }
  # which gc.h it was compiled with
  if [ "$b_how" = ours ]; then
    tr ' \\' '\n\n' <"$WORK/$b_n.deps" | grep -qx "$INC/gc.h" || { echo "FAIL: $b_n (ours) was not compiled with $INC/gc.h" >&2; bad=1; return 1; }
  else
    tr ' \\' '\n\n' <"$WORK/$b_n.deps" | grep -q "^$INC/" && { echo "FAIL: $b_n (stock) used a header from $INC" >&2; bad=1; return 1; }
  fi
  return 0
}
# run RES BIN LIBDIR ARGS...: runs $WORK/BIN (with LD_LIBRARY_PATH=LIBDIR if
# not empty); output in $WORK/RES.{out,err,check}, loader log $WORK/RES.ld.<pid>
run() {
  r_res=$1 r_bin=$2 r_libdir=$3; shift 3
  r_base=$WORK/$r_res
  rm -f "$r_base".ld.*
  (
    [ -n "$r_libdir" ] && { LD_LIBRARY_PATH=$r_libdir; export LD_LIBRARY_PATH; }
    SPANGC_DEBUG=gctrace=1 LD_DEBUG=libs LD_DEBUG_OUTPUT=$r_base.ld; export SPANGC_DEBUG LD_DEBUG LD_DEBUG_OUTPUT
    exec "$WORK/$r_bin" "$@"
  ) >"$r_base.out" 2>"$r_base.err" </dev/null
  r_st=$?
  grep 'check:' "$r_base.out" >"$r_base.check"
  [ $r_st = 0 ] || { echo "FAIL: $r_res ($r_bin $*): exit status $r_st; stderr:" >&2; strip_gctrace "$r_base.err" | tail -n 8 >&2; bad=1; return 1; }
  [ -s "$r_base.check" ] || { echo "FAIL: $r_res ($r_bin $*): no check: line" >&2; bad=1; return 1; }
  return 0
}
# compare RES WHAT: $WORK/RES.ours-build or RES.dropin against RES.stock
compare() {
  c_r=$1 c_what=$2
  if ! cmp -s "$WORK/$c_r.stock.check" "$WORK/$c_r.$c_what.check"; then
    echo "FAIL: $c_r: CHECK LINES DIFFER between stock and $c_what:" >&2
    diff "$WORK/$c_r.stock.check" "$WORK/$c_r.$c_what.check" | head -n 10 >&2; bad=1; trap - EXIT; return 1
  fi
  check_loaded "$c_r, stock" "$WORK/$c_r.stock.ld" "$STOCK_REAL"
  check_loaded "$c_r, $c_what" "$WORK/$c_r.$c_what.ld" "$OURS_REAL"
  c_ngc=$(count_gctrace "$WORK/$c_r.$c_what.err")
  if [ "$IS_SPANGC" = 1 ] && [ "$c_ngc" -lt 1 ]; then
    echo "FAIL: $c_r ($c_what): no collection ran on our library (SPANGC_DEBUG=gctrace=1 printed no 'gc N @' line)" >&2; bad=1; return 1
  fi
  note "ok   $c_r $c_what: $(wc -l <"$WORK/$c_r.stock.check") check lines identical to stock, $c_ngc collections on ours"
}

for src in binarytrees gcbench pause; do
  case $src in
  binarytrees) runs="16" ;;
  gcbench) runs="-" ;;
  pause) runs="20000:1024:200000:1 20000:1024:200000:0" ;;
  esac
  for m in plain markers; do
    defs=-DUSE_BDWGC; [ $m = markers ] && defs="-DUSE_BDWGC -DBDWGC_MARKERS"
    n=$src-$m
    build $n.stock-build "$defs" $src stock || continue
    build $n.ours-build "$defs" $src ours || continue
    for a in $runs; do
      args=$(echo "$a" | tr ':' ' '); r=$n
      [ "$a" = - ] && args="" || r=$n-$(echo "$a" | tr ':' '_')
      # stock binary on the stock library, our build, the stock binary on our library
      # shellcheck disable=SC2086
      run $r.stock $n.stock-build "" $args || continue
      # shellcheck disable=SC2086
      run $r.ours-build $n.ours-build "" $args && compare $r ours-build
      # shellcheck disable=SC2086
      run $r.dropin $n.stock-build "$OURS_DIR" $args && compare $r dropin
    done
  done
done
[ $bad = 0 ] || exit 1
note "PASS: the -DUSE_BDWGC peers agree with stock bdwgc, built against our headers and library and as a binary drop-in"
