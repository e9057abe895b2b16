# common.sh: helpers for the scripts that run real bdwgc clients on the stock
# libgc.so.1 and on ours (sourced; POSIX sh).
#
# After `setup_libs OURS_DIR PROGRAM` (PROGRAM: an executable linked, directly
# or not, with libgc.so.1):
#   OURS_LIB OURS_REAL   our libgc.so.1 and the file it resolves to
#   STOCK_LIB STOCK_REAL the libgc.so.1 PROGRAM loads when nothing is overridden
#   IS_SPANGC            1 if OURS_LIB is spangc's (it knows SPANGC_DEBUG)
# and the environment is cleared of anything that would change which library
# is loaded or what the collectors print.
# `ld_debug_env BASE` gives the variables that make the loader log to BASE.<pid>;
# `check_loaded WHAT BASE EXPECTED_REAL` then fails unless exactly one
# libgc.so.1 was initialised, and it is EXPECTED_REAL.
# `count_gctrace FILE` counts our collector's "gc N @..." trace lines;
# `strip_gctrace FILE` prints FILE without any of our gctrace lines (those,
# the "heap N: arena ..." and "limit N: ..." lines, and the
# "spangc: gctrace: ..." start-up line).

fail() { echo "FAIL: $*" >&2; exit 1; }

setup_libs() {
  _dir=$1 _prog=$2
  [ -d "$_dir" ] || fail "OURS_DIR '$_dir' is not a directory"
  OURS_DIR=$(cd "$_dir" && pwd -P)
  OURS_LIB=$OURS_DIR/libgc.so.1
  [ -e "$OURS_LIB" ] || fail "no libgc.so.1 in $OURS_DIR (is the gc_compat target built?)"
  unset LD_LIBRARY_PATH LD_PRELOAD SPANGC_DEBUG GC_PRINT_STATS GC_LOG_FILE GC_INITIAL_HEAP_SIZE \
    GC_MAXIMUM_HEAP_SIZE GC_MARKERS GC_DONT_GC GC_FREE_SPACE_DIVISOR LD_DEBUG LD_DEBUG_OUTPUT
  STOCK_LIB=$(ldd "$_prog" | awk '$1 == "libgc.so.1" { print $3 }')
  [ -n "$STOCK_LIB" ] && [ -e "$STOCK_LIB" ] || fail "ldd $_prog names no libgc.so.1 (is it linked with bdwgc? apt-get install libgc1)"
  STOCK_REAL=$(readlink -f "$STOCK_LIB")
  OURS_REAL=$(readlink -f "$OURS_LIB")
  if grep -q SPANGC_DEBUG "$OURS_REAL"; then
    IS_SPANGC=1
  else
    IS_SPANGC=0
    echo "NOTE: $OURS_LIB does not look like spangc's (no SPANGC_DEBUG in it): testing the script only, no collection count required"
  fi
  [ "$STOCK_REAL" != "$OURS_REAL" ] || echo "NOTE: OURS_DIR's libgc.so.1 is the stock library itself ($STOCK_REAL)"
}

# the libgc.so.1 files the loader initialised, from the logs BASE.<pid>
loaded_libgc() { cat "$1".* 2>/dev/null | sed -n 's/.*calling init: \(.*libgc\.so[^ ]*\).*/\1/p' | sort -u; }

check_loaded() {
  _what=$1 _base=$2 _want=$3
  _got=$(loaded_libgc "$_base")
  [ -n "$_got" ] || fail "$_what: the loader log ($_base.*) names no libgc.so.1 (LD_DEBUG ignored?)"
  [ "$(echo "$_got" | wc -l)" = 1 ] || fail "$_what: more than one libgc.so.1 initialised: $(echo $_got)"
  [ "$(readlink -f "$_got")" = "$_want" ] || fail "$_what: loaded $_got, expected $_want"
}

count_gctrace() { grep -cE '^gc [0-9]+ @' "$1"; }
strip_gctrace() { grep -vE '^(gc [0-9]+ @|heap [0-9]+: arena |limit [0-9]+: |spangc: gctrace: )' "$1"; }
