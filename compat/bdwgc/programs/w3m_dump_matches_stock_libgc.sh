#!/bin/sh
# w3m_dump_matches_stock_libgc.sh OURS_DIR [WORK_DIR]
#
# A real bdwgc client on our libgc.so.1: Debian's w3m (linked against
# libgc.so.1) renders a few large generated HTML pages with `w3m -dump`, once
# on the stock library and once with LD_LIBRARY_PATH=OURS_DIR, which holds our
# libgc.so.1.  Standard output and exit status must be identical; standard
# error too, once our collector's gctrace lines are taken out.
#
# It also proves that ours was used: the dynamic loader's own log
# (LD_DEBUG=libs) must show OURS_DIR/libgc.so.1 initialised and no other
# libgc.so.1; and since our library prints a line per collection when
# SPANGC_DEBUG=gctrace=1, at least one collection must have happened on ours
# while rendering each page.  (If OURS_DIR's library is not spangc's, e.g. the
# stock directory given to test this script, that last check is skipped with a
# note.)
#
# w3m missing is a FAILURE, not a skip: CI installs it (.ci/run).
# Pages: gen_html.awk (beside this script), about 6 MB of HTML in 4 pages.
set -u

note() { echo "w3m test: $*"; }

[ $# -ge 1 ] || { echo "usage: $0 OURS_DIR [WORK_DIR]" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
W3M=$(command -v w3m) || fail "w3m is not installed: this test needs Debian's w3m (apt-get install w3m libgc1; .ci/run installs it)"
setup_libs "$1" "$W3M"

if [ $# -ge 2 ]; then
  WORK=$2; rm -rf "$WORK"; mkdir -p "$WORK" || fail "cannot create $WORK"
else
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/w3m-test.XXXXXX") || fail "mktemp failed"
  trap 'rm -rf "$WORK"' EXIT
fi
HOME=$WORK/home; export HOME  # w3m keeps ~/.w3m: a private one, the same for both runs
mkdir -p "$HOME"
LC_ALL=C.UTF-8; export LC_ALL

# ---- pages
PAGES="tables lists pre mixed"
total=0
for p in $PAGES; do
  awk -v page=$p -f "$HERE/gen_html.awk" >"$WORK/$p.html" || fail "gen_html.awk failed for page $p"
  sz=$(wc -c <"$WORK/$p.html")
  total=$((total + sz))
done
note "$(echo $PAGES | wc -w) pages, $total bytes of HTML in $WORK; stock: $STOCK_REAL; ours: $OURS_REAL"

# run TAG LIBDIR PAGE MODE: one w3m -dump; files $WORK/PAGE.MODE.TAG.{out,err,rc}
# and the loader log $WORK/PAGE.MODE.TAG.ld.<pid>
run() {
  tag=$1 libdir=$2 page=$3 mode=$4
  base=$WORK/$page.$mode.$tag
  case $mode in
  wide) opts="-cols 120 -o display_link_number=1" ;;
  narrow) opts="-cols 72 -no-graph" ;;
  esac
  rm -f "$base".ld.*
  if [ -n "$libdir" ]; then
    # shellcheck disable=SC2086
    LD_LIBRARY_PATH=$libdir SPANGC_DEBUG=gctrace=1 LD_DEBUG=libs LD_DEBUG_OUTPUT=$base.ld \
      "$W3M" -dump -T text/html -I UTF-8 -O UTF-8 $opts "$WORK/$page.html" \
      >"$base.out" 2>"$base.err" </dev/null
  else
    # shellcheck disable=SC2086
    LD_DEBUG=libs LD_DEBUG_OUTPUT=$base.ld \
      "$W3M" -dump -T text/html -I UTF-8 -O UTF-8 $opts "$WORK/$page.html" \
      >"$base.out" 2>"$base.err" </dev/null
  fi
  echo $? >"$base.rc"
}

bad=0
for p in $PAGES; do
  for mode in wide narrow; do
    run stock "" $p $mode
    run ours "$OURS_DIR" $p $mode
    s=$WORK/$p.$mode.stock o=$WORK/$p.$mode.ours
    # same output, same status
    src=$(cat "$s.rc") orc=$(cat "$o.rc")
    ngc=$(count_gctrace "$o.err")
    strip_gctrace "$o.err" >"$o.err.filtered"
    msg="$p/$mode: stdout $(wc -c <"$s.out") bytes, exit $src (stock) / $orc (ours), $ngc collections on ours"
    if [ "$src" != 0 ]; then
      echo "FAIL: $msg: w3m failed on the STOCK library:" >&2; head -n 5 "$s.err" >&2; bad=1
    elif [ "$orc" != "$src" ]; then
      echo "FAIL: $msg: exit status differs; our stderr:" >&2; strip_gctrace "$o.err" | tail -n 10 >&2; bad=1
    elif ! cmp -s "$s.out" "$o.out"; then
      echo "FAIL: $msg: OUTPUT DIFFERS (first differences below; files kept in $WORK)" >&2
      diff "$s.out" "$o.out" | head -n 20 >&2; bad=1; trap - EXIT
    elif ! cmp -s "$s.err" "$o.err.filtered"; then
      echo "FAIL: $msg: stderr differs (gctrace lines removed):" >&2
      diff "$s.err" "$o.err.filtered" | head -n 10 >&2; bad=1
    elif [ "$IS_SPANGC" = 1 ] && [ "$ngc" -lt 1 ]; then
      echo "FAIL: $msg: no collection ran on our library (SPANGC_DEBUG=gctrace=1 printed no 'gc N @' line)" >&2; bad=1
    else
      # which library each run really loaded (the loader's own log)
      check_loaded "$p/$mode, stock run" "$s.ld" "$STOCK_REAL"
      check_loaded "$p/$mode, our run" "$o.ld" "$OURS_REAL"
      note "ok   $msg"
    fi
  done
done
[ $bad = 0 ] || exit 1
note "PASS: w3m -dump output identical on stock libgc ($STOCK_REAL) and ours ($OURS_REAL)"
