#!/bin/sh
# guile_matches_stock_libgc.sh OURS_DIR [WORK_DIR]
#
# A second real bdwgc client on our libgc.so.1: Debian's Guile 3.0
# (libguile-3.0.so.1 is linked with libgc.so.1).  Guile leans on much more of
# bdwgc than w3m does: its own object kinds and a mark procedure for the VM
# stacks (GC_new_kind, GC_new_proc, GC_mark_and_push), GC_generic_malloc_many,
# typed objects (GC_make_descriptor, GC_malloc_explicitly_typed), weak tables
# (disappearing links), finalizers on their own thread
# (GC_register_finalizer_no_order, GC_set_finalizer_notifier), threads
# registered with GC_register_my_thread, GC_do_blocking and
# GC_call_with_gc_active around blocking calls.
#
# Two jobs, each run on the stock library and with LD_LIBRARY_PATH=OURS_DIR:
#   1. guile_workload.scm: lists, strings, hash tables, bignums, trees, weak
#      tables, guardians, ports, 4 threads plus par-map, the compiler; its
#      standard output ("check:" lines) must be identical;
#   2. the Guile compiler compiles three modules of Guile's own library
#      (srfi-1, ice-9 pretty-print, ice-9 peg codegen) to .go files, which must
#      be byte-identical.
# Exit statuses must match.  The loader's log (LD_DEBUG=libs) must show our
# library initialised, and (spangc's library) SPANGC_DEBUG=gctrace=1 must
# report at least one collection in each job.
# SPANGC_TEST_SCALE (default 1; make check's debug build uses 0.3) scales the
# workload.  guile-3.0 missing is a FAILURE (CI installs it).
set -u

note() { echo "guile test: $*"; }
[ $# -ge 1 ] || { echo "usage: $0 OURS_DIR [WORK_DIR]" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
GUILE=$(command -v guile-3.0) || fail "guile-3.0 is not installed: this test needs Debian's guile-3.0 (apt-get install guile-3.0; .ci/run installs it)"
setup_libs "$1" "$GUILE"
SCALE=${SPANGC_TEST_SCALE:-1}
GUILE_SRC=$("$GUILE" -c '(display (dirname (dirname (%search-load-path "srfi/srfi-1.scm"))))' 2>/dev/null)
[ -f "$GUILE_SRC/srfi/srfi-1.scm" ] || fail "Guile's library sources not found (looked in $GUILE_SRC)"
MODULES="srfi/srfi-1.scm ice-9/pretty-print.scm ice-9/peg/codegen.scm"

if [ $# -ge 2 ]; then
  WORK=$2; rm -rf "$WORK"; mkdir -p "$WORK" || fail "cannot create $WORK"
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/guile-test.XXXXXX") || fail "mktemp failed"
  trap 'rm -rf "$WORK"' EXIT
fi
HOME=$WORK/home XDG_CACHE_HOME=$WORK/home/.cache GUILE_AUTO_COMPILE=0 LC_ALL=C.UTF-8
export HOME XDG_CACHE_HOME GUILE_AUTO_COMPILE LC_ALL
unset GUILE_LOAD_PATH GUILE_LOAD_COMPILED_PATH
mkdir -p "$HOME"
note "stock: $STOCK_REAL; ours: $OURS_REAL; scale $SCALE"

# job_* TAG: writes $WORK/JOB.TAG.{out,err,rc} and the loader log $WORK/JOB.TAG.ld.<pid>
job_workload() {
  "$GUILE" --no-auto-compile -s "$HERE/guile_workload.scm" "$SCALE"
}
job_compile() {
  mkdir -p "$WORK/go.$1"
  for m in $MODULES; do
    echo "(compile-file \"$GUILE_SRC/$m\" #:output-file \"$WORK/go.$1/$(echo "$m" | tr / _).go\")"
  done >"$WORK/compile.$1.scm"
  "$GUILE" --no-auto-compile -c "(use-modules (system base compile)) (load \"$WORK/compile.$1.scm\") (display \"compiled\n\")"
}
run() { # JOB TAG LIBDIR
  base=$WORK/$1.$2
  rm -f "$base".ld.*
  (
    if [ -n "$3" ]; then
      LD_LIBRARY_PATH=$3 SPANGC_DEBUG=gctrace=1; export LD_LIBRARY_PATH SPANGC_DEBUG
    fi
    LD_DEBUG=libs LD_DEBUG_OUTPUT=$base.ld; export LD_DEBUG LD_DEBUG_OUTPUT
    job_$1 "$2"
  ) >"$base.out" 2>"$base.err" </dev/null
  echo $? >"$base.rc"
}

bad=0
for job in workload compile; do
  t0=$(date +%s); run $job stock ""; t1=$(date +%s); run $job ours "$OURS_DIR"; t2=$(date +%s)
  s=$WORK/$job.stock o=$WORK/$job.ours
  src=$(cat "$s.rc") orc=$(cat "$o.rc") ngc=$(count_gctrace "$o.err")
  msg="$job: exit $src (stock, $((t1 - t0)) s) / $orc (ours, $((t2 - t1)) s), $(wc -l <"$s.out") lines of output, $ngc collections on ours"
  if [ "$src" != 0 ]; then
    echo "FAIL: $msg: guile failed on the STOCK library:" >&2; tail -n 8 "$s.err" >&2; bad=1; continue
  fi
  if [ "$orc" != "$src" ]; then
    echo "FAIL: $msg: exit status differs; our stderr (gctrace lines removed):" >&2
    strip_gctrace "$o.err" | tail -n 15 >&2; bad=1; trap - EXIT; continue
  fi
  if ! cmp -s "$s.out" "$o.out"; then
    echo "FAIL: $msg: OUTPUT DIFFERS (files kept in $WORK):" >&2; diff "$s.out" "$o.out" | head -n 20 >&2
    bad=1; trap - EXIT; continue
  fi
  if [ $job = compile ]; then
    for m in $MODULES; do
      g=$(echo "$m" | tr / _).go
      [ -s "$WORK/go.stock/$g" ] || { echo "FAIL: $job: stock run wrote no $g" >&2; bad=1; continue; }
      if ! cmp -s "$WORK/go.stock/$g" "$WORK/go.ours/$g"; then
        echo "FAIL: $job: compiled $g differs ($(wc -c <"$WORK/go.stock/$g") bytes stock, $(wc -c <"$WORK/go.ours/$g" 2>/dev/null) ours; kept in $WORK)" >&2
        bad=1; trap - EXIT
      fi
    done
    msg="$msg, $(echo $MODULES | wc -w) .go files identical"
  fi
  if [ "$IS_SPANGC" = 1 ] && [ "$ngc" -lt 1 ]; then
    echo "FAIL: $msg: no collection ran on our library (SPANGC_DEBUG=gctrace=1 printed no 'gc N @' line)" >&2; bad=1; continue
  fi
  check_loaded "$job, stock run" "$s.ld" "$STOCK_REAL"
  check_loaded "$job, our run" "$o.ld" "$OURS_REAL"
  note "ok   $msg"
  [ $job = workload ] && sed -n 's/^info: /    /p' "$o.err"
done
[ $bad = 0 ] || exit 1
note "PASS: Guile's output identical on stock libgc ($STOCK_REAL) and ours ($OURS_REAL)"
