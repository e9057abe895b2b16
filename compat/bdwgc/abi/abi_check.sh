#!/usr/bin/env bash
# abi_check.sh -- checks spangc's bdwgc-compatible headers.
#
#   abi_check.sh abi     COMPAT_DIR WORK_DIR STOCK_INCLUDE_DIR
#       Prove that the headers agree with the stock bdwgc ones: build
#       abi_probe.c against each in several configurations, run both, diff;
#       build abi_types.cpp (the C++ type of every name in symbols.txt)
#       against each, diff; check that our headers declare exactly the
#       functions and variables listed in symbols.txt.
#
#   abi_check.sh compile COMPAT_DIR WORK_DIR
#       Prove that header_use.c (which includes every header and uses
#       every macro) compiles cleanly with -Wall -Wextra -Werror -pedantic
#       as C99 (gcc, and clang if present) and as C++98 and C++17 (g++ /
#       clang++ if present), with and without GC_THREADS and GC_DEBUG; and
#       that each header compiles alone, as C and as C++, in each of those
#       four configurations.
#
# COMPAT_DIR is compat/bdwgc (holding include/, symbols.txt and abi/).
# STOCK_INCLUDE_DIR is the directory holding gc/gc.h of bdwgc (/usr/include).
# CC and CXX may be set in the environment.  Exits 0 on success, 1 on any
# difference or failure, 77 if a prerequisite is missing.
set -u

mode=${1:-}
compat=${2:-}
work=${3:-}
stock=${4:-}
if [ -z "$mode" ] || [ -z "$compat" ] || [ -z "$work" ]; then
  echo "usage: $0 abi|compile COMPAT_DIR WORK_DIR [STOCK_INCLUDE_DIR]" >&2
  exit 2
fi
compat=$(cd "$compat" && pwd) || exit 2
inc=$compat/include
abi=$compat/abi
mkdir -p "$work" || exit 2
work=$(cd "$work" && pwd)

CC=${CC:-cc}
have() { command -v "$1" >/dev/null 2>&1; }
pick_cxx() {
  if [ -n "${CXX:-}" ] && have "$CXX"; then echo "$CXX"; return; fi
  for c in g++ c++ clang++; do
    if have "$c"; then echo "$c"; return; fi
  done
}

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# ---------------------------------------------------------------------
# abi: our headers against the stock ones
# ---------------------------------------------------------------------
run_abi() {
  if [ -z "$stock" ] || [ ! -f "$stock/gc/gc.h" ]; then
    echo "stock bdwgc headers not found (need STOCK_INCLUDE_DIR/gc/gc.h)"
    exit 77
  fi
  stock=$(cd "$stock" && pwd)

  # Configurations: name|compiler flags.
  local configs=(
    "plain|"
    "optimised|-O2"
    "ndebug|-DNDEBUG"
    "debug|-DGC_DEBUG"
    "threads|-DGC_THREADS"
    "threads-debug|-DGC_THREADS -DGC_DEBUG"
    "threads-gnu|-DGC_THREADS -D_GNU_SOURCE"
    "threads-noredirect|-DGC_THREADS -DGC_NO_THREAD_REDIRECTS"
    "threads-nodlopen-nosigmask|-DGC_THREADS -DGC_NO_DLOPEN -DGC_NO_PTHREAD_SIGMASK"
    "linux-threads|-DGC_LINUX_THREADS"
    "pthreads-only|-DGC_PTHREADS"
    "init-options|-DGC_DONT_EXPAND -DGC_FORCE_UNMAP_ON_GCOLLECT -DGC_MAX_RETRIES=4 -DGC_FREE_SPACE_DIVISOR=5 -DGC_FULL_FREQ=6 -DGC_TIME_LIMIT=7 -DGC_MAXIMUM_HEAP_SIZE=123456 -DGC_IGNORE_WARN -DGC_INITIAL_HEAP_SIZE=65536"
    "init-dont-gc|-DGC_DONT_GC -DGC_INITIAL_HEAP_SIZE=100"
    "init-big-heap|-DGC_INITIAL_HEAP_SIZE=1"
    "init-signals|-DGC_THREADS -DGC_SIG_SUSPEND=SIGUSR2 -DGC_SIG_THR_RESTART=SIGXCPU -DGC_MAXIMUM_HEAP_SIZE=99999 -DGC_TIME_LIMIT=3"
  )
  local base="-std=gnu11 -O0 -w"
  local entry name flags side dir out
  for entry in "${configs[@]}"; do
    name=${entry%%|*}
    flags=${entry#*|}
    for side in ours stock; do
      if [ $side = ours ]; then dir=$inc; else dir=$stock; fi
      out=$work/probe-$name-$side
      # shellcheck disable=SC2086
      if ! $CC $base $flags -I"$dir" "$abi/abi_probe.c" -o "$out" \
          2>"$out.log"; then
        fail "probe [$name] does not build against $side headers:"
        sed 's/^/    /' "$out.log" | head -20
        continue 2
      fi
      if ! "$out" >"$out.txt" 2>&1; then
        fail "probe [$name] built against $side headers exits with an error"
        continue 2
      fi
    done
    if diff -u "$work/probe-$name-stock.txt" "$work/probe-$name-ours.txt" \
        >"$work/probe-$name.diff"; then
      echo "ok   probe [$name]: $(grep -c . "$work/probe-$name-ours.txt") lines identical"
    else
      fail "probe [$name] differs (stock: -, ours: +):"
      sed 's/^/    /' "$work/probe-$name.diff" | head -60
    fi
  done

  check_declared_set

  # Exact types of every declared name (C++ mangled type names).
  local cxx
  cxx=$(pick_cxx)
  if [ -z "$cxx" ]; then
    echo "skip prototypes: no C++ compiler"
  else
    sed -n 's/^\(GC_[A-Za-z0-9_]*\)[[:space:]].*$/SYM(\1)/p' \
      "$work/declared-listed.txt" >"$work/abi_symbols.inc"
    for side in ours stock; do
      if [ $side = ours ]; then dir=$inc; else dir=$stock; fi
      out=$work/types-$side
      if ! $cxx -std=c++11 -w -DGC_THREADS -D_GNU_SOURCE -I"$work" \
          -I"$dir" "$abi/abi_types.cpp" -o "$out" 2>"$out.log"; then
        fail "abi_types.cpp does not build against $side headers:"
        sed 's/^/    /' "$out.log" | grep -v '^ *In file included' | head -30
        continue
      fi
      "$out" >"$out.txt" 2>&1 || fail "types program ($side) failed"
    done
    if [ -f "$work/types-ours.txt" ] && [ -f "$work/types-stock.txt" ]; then
      if diff -u "$work/types-stock.txt" "$work/types-ours.txt" \
          >"$work/types.diff"; then
        echo "ok   prototypes: $(grep -c . "$work/types-ours.txt") names and typedefs have identical types"
      else
        fail "types differ (stock: -, ours: +):"
        sed 's/^/    /' "$work/types.diff" | head -60
      fi
    fi
  fi
}

# Our headers must declare exactly the names of symbols.txt, each as the
# kind (func/data) given there -- except export-only names: symbols.txt
# lists what libgc.so.1 exports, which includes a few names that stock
# bdwgc 8.2.2 exports without declaring them in its headers (such as
# GC_push_other_roots).  A listed name our headers do not declare is
# accepted only if the stock headers do not declare it either.
# Leaves the listed names our headers declare in declared-listed.txt.
check_declared_set() {
  local tu=$work/all_headers.c
  cat >"$tu" <<'EOF'
#include <gc/gc.h>
#include <gc/gc_typed.h>
#include <gc/gc_mark.h>
#include <gc/gc_inline.h>
#include <gc/gc_pthread_redirects.h>
#include <gc/gc_gcj.h>
#include <gc/gc_disclaim.h>
#include <gc/javaxfc.h>
EOF
  # symbols.txt: sorted, unique, two columns, kinds func/data.
  if ! LC_ALL=C sort -c -u "$compat/symbols.txt" 2>/dev/null; then
    fail "symbols.txt is not sorted and unique"
  fi
  if awk 'NF != 2 || ($2 != "func" && $2 != "data") { bad = 1 } END { exit !bad }' \
      "$compat/symbols.txt"; then
    fail "symbols.txt has lines that are not 'NAME func|data'"
  fi

  # Functions: gcc's -aux-info lists every function declaration with the
  # file it comes from.
  local gcc_cmd=""
  if $CC --version 2>/dev/null | grep -qi 'free software foundation'; then
    gcc_cmd=$CC
  elif have gcc; then
    gcc_cmd=gcc
  fi
  if [ -z "$gcc_cmd" ]; then
    echo "skip declared-set check: needs gcc (-aux-info)"
    return
  fi
  # declared_by DIR OUT: the GC_ names the headers under DIR/gc declare
  # ("name func|data"), as gcc sees them in this configuration.
  declared_by() {
    local dir=$1 out=$2 hdr=$1/gc/
    if ! $gcc_cmd -std=gnu11 -DGC_THREADS -D_GNU_SOURCE -I"$dir" -fsyntax-only \
        -aux-info "$out.aux" "$tu" 2>"$out.log"; then
      fail "all_headers.c does not compile against $dir"
      sed 's/^/    /' "$out.log" | head
      return 1
    fi
    grep -F "/* $hdr" "$out.aux" \
      | sed -n 's/.*[^A-Za-z0-9_]\(GC_[A-Za-z0-9_]*\) *(.*/\1 func/p' \
      >"$out"
    # Variables: extern declarations in the preprocessed text of the
    # headers whose last token before ';' is the name, or function
    # pointers "(* name)(...)".
    $gcc_cmd -std=gnu11 -DGC_THREADS -D_GNU_SOURCE -I"$dir" -E "$tu" \
      | awk -v inc="$hdr" '
          /^# [0-9]+ "/ { f = $3; gsub(/"/, "", f); ours = index(f, inc) == 1; next }
          ours { printf "%s ", $0 }
          END { printf "\n" }' \
      | tr ';' '\n' \
      | sed -n -e 's/^[[:space:]]*extern[^{}]*[^A-Za-z0-9_]\(GC_[A-Za-z0-9_]*\)[[:space:]]*$/\1 data/p' \
               -e 's/^[[:space:]]*extern[^{}]*([[:space:]]*\*[[:space:]]*\(GC_[A-Za-z0-9_]*\)[[:space:]]*)[[:space:]]*([^()]*)[[:space:]]*$/\1 data/p' \
      >>"$out"
    LC_ALL=C sort -u "$out" -o "$out"
  }
  declared_by "$inc" "$work/declared.txt" || return
  declared_by "$stock" "$work/stock-declared.txt" || return
  LC_ALL=C sort -u "$work/declared.txt" -o "$work/declared.txt"
  LC_ALL=C comm -12 "$compat/symbols.txt" "$work/declared.txt" \
    >"$work/declared-listed.txt"
  local extra missing name export_only="" bad=0
  extra=$(LC_ALL=C comm -13 "$compat/symbols.txt" "$work/declared.txt")
  missing=$(LC_ALL=C comm -23 "$compat/symbols.txt" "$work/declared.txt")
  if [ -n "$extra" ]; then
    bad=1
    fail "declared by our headers but not in symbols.txt (or of another kind):"
    printf '%s\n' "$extra" | sed 's/^/    + /'
  fi
  for name in $(printf '%s\n' "$missing" | awk 'NF {print $1}'); do
    if grep -qw "$name" "$work/declared.txt"; then
      continue # kind mismatch, reported above
    elif grep -qw "$name" "$work/stock-declared.txt"; then
      bad=1
      fail "$name is in symbols.txt and declared by the stock headers, but not by ours"
    else
      export_only="$export_only $name"
    fi
  done
  if [ $bad -eq 0 ]; then
    echo "ok   declarations: the headers declare exactly the $(grep -c . "$work/declared-listed.txt") names of symbols.txt ($(grep -c ' data$' "$work/declared-listed.txt") data, $(grep -c ' func$' "$work/declared-listed.txt") func); export-only, undeclared by the stock headers too:${export_only:- none}"
  fi
}

# ---------------------------------------------------------------------
# compile: every header compiles cleanly, alone and in use
# ---------------------------------------------------------------------
run_compile() {
  local headers=(
    gc.h gc/gc.h gc_typed.h gc/gc_typed.h gc_mark.h gc/gc_mark.h
    gc_inline.h gc/gc_inline.h gc_pthread_redirects.h
    gc/gc_pthread_redirects.h gc/gc_tiny_fl.h gc/gc_version.h
    gc/gc_config_macros.h gc_gcj.h gc/gc_gcj.h gc_disclaim.h
    gc/gc_disclaim.h javaxfc.h gc/javaxfc.h gc_backptr.h gc/gc_backptr.h
    leak_detector.h gc/leak_detector.h
  )
  local defs=("" "-DGC_THREADS" "-DGC_DEBUG" "-DGC_THREADS -DGC_DEBUG")
  local warn="-Wall -Wextra -Werror -pedantic -Wundef -Wshadow"
  local compilers=()
  compilers+=("$CC|-std=c99 $warn -Wstrict-prototypes -Wmissing-prototypes|c")
  if have clang && [ "$(basename "$CC")" != clang ]; then
    compilers+=("clang|-std=c99 $warn -Wstrict-prototypes -Wmissing-prototypes|c")
  fi
  local cxx
  for cxx in g++ clang++; do
    if have $cxx; then
      compilers+=("$cxx|-std=c++98 $warn|c++")
      compilers+=("$cxx|-std=c++17 $warn|c++")
    fi
  done

  local h i entry cc flags lang d tu n=0 bad=0
  for i in "${!headers[@]}"; do
    h=${headers[$i]}
    tu=$work/hdr$i.c
    printf '#include <%s>\nint header_tu_%d(void);\nint header_tu_%d(void) { return 0; }\n' \
      "$h" "$i" "$i" >"$tu"
  done
  # Each header alone (does it include what it needs?) under the first C
  # and the first C++ setup; header_use.c, which includes them all and
  # uses every macro, under every setup (the warnings differ by compiler
  # and standard; what a header includes does not).
  local alone langs_alone=" "
  for entry in "${compilers[@]}"; do
    IFS='|' read -r cc flags lang <<<"$entry"
    alone=0
    if [[ "$langs_alone" != *" $lang "* ]]; then
      alone=1
      langs_alone+="$lang "
    fi
    for d in "${defs[@]}"; do
      [ $alone -eq 1 ] && for i in "${!headers[@]}"; do
        n=$((n + 1))
        # shellcheck disable=SC2086
        if ! $cc -x $lang $flags $d -I"$inc" -fsyntax-only "$work/hdr$i.c" \
            >"$work/compile.log" 2>&1; then
          bad=$((bad + 1))
          fail "$cc $flags $d: <${headers[$i]}> alone"
          sed 's/^/    /' "$work/compile.log" | head -15
        fi
      done
      n=$((n + 1))
      # shellcheck disable=SC2086
      if ! $cc -x $lang $flags $d -I"$inc" -c "$abi/header_use.c" \
          -o "$work/header_use.o" >"$work/compile.log" 2>&1; then
        bad=$((bad + 1))
        fail "$cc $flags $d: header_use.c"
        sed 's/^/    /' "$work/compile.log" | head -25
      fi
    done
    echo "done $cc $flags (headers alone: $alone)"
  done
  if [ $bad -eq 0 ]; then
    echo "ok   compile: $n compilations clean (${#compilers[@]} compiler setups x ${#defs[@]} configurations; ${#headers[@]} headers alone in 2 of the setups)"
  fi
}

case $mode in
  abi) run_abi ;;
  compile) run_compile ;;
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac

if [ $failures -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
exit 0
