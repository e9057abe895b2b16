#!/usr/bin/env bash
# bench/run.sh — compare spangc with glibc malloc, mimalloc, bdwgc and Go.
#
#   bash bench/run.sh [PART...]        PART: allocfree binarytrees gcbench pause pause1g stall scaling gen wpcost sizing memlimit shrink fibers soak programs
#                                      (default: all of them)
#   BENCH=quick (default) | full       sizes and repetitions (see "Sizes" below)
#   BENCH=smoke                        tiny sizes, one repetition, no package
#                                      installs: checks the script, not speed
#                                      (make check runs it)
#   REPS=n                             override the number of repetitions
#                                      (of every part but scaling and soak)
#   BENCH_OUT=dir                      write there instead of bench/out
#
# `make bench` runs `make build` and then this script; run alone, the
# script brings build/ up to date itself.  Everything it builds
# or writes goes to bench/out/: binaries, bench/out/prefix (spangc installed
# from build/ with cmake --install), logs/, results.tsv (one line per run),
# results.md (the tables as Markdown) and the plots (*.png).
#
# "bdwgc API on spangc" (variant bdwgc-api-on-spangc): the peers' -DUSE_BDWGC
# sources, unchanged, compiled against our bdwgc-compatible headers and
# linked with our libgc.so.1 (the gc_compat target), both as cmake --install
# put them in bench/out/prefix (include/spangc-bdwgc, lib/spangc-bdwgc), else
# compat/bdwgc/include and build/compat/bdwgc/libgc.so.1.  The stock bdwgc
# variants run with LD_LIBRARY_PATH unset, so they always get Debian's
# libgc.so.1 (checked with ldd).
#
# Every run goes through bench/out/measure (bench/measure.c: wall time, CPU
# time and peak RSS from wait4, plus an RSS watchdog).  Variants run
# alternately, REPS times; tables show medians.  Every benchmark prints
# "check:" lines; they must be identical across variants at the same
# parameters, or the bench fails (exit status 1).  A crashed run fails it too.
#
# Part "pause" also prints, per scanned setting, the push-latency
# distribution (p50, p99, p99.9, worst) of spangc, spangc-conc, bdwgc and
# malloc and draws pause-hist-scanned{1,0}.png (histogram and exceedance
# curve, all runs pooled); part "pause1g" (BENCH=full only) is the pause
# test at 1 GB live.  After the parts, one table puts each benchmark's peak
# RSS against its live size (rss_live_table).
#
# Part "programs": Debian's Guile 3.0 and ECL (both link libgc.so.1
# dynamically) running the allocation-heavy programs of bench/programs/,
# compiled ahead (Guile .go, ECL native .fas), on Debian's libgc.so.1
# (variant stock, LD_LIBRARY_PATH unset) and on ours (variant ours,
# LD_LIBRARY_PATH=<our libgc.so.1's directory>), alternating each rep; each
# interpreter's /proc/self/maps is checked once per variant for the libgc.so.1
# it really maps.
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
OUT=${BENCH_OUT:-$HERE/out}
PEERS=$HERE/peers
MODE=${BENCH:-quick}
USER_REPS=${REPS:-}
T_START=$(date +%s)

# ---------------------------------------------------------------- sizes
case $MODE in
quick)
  REPS=${REPS:-5}
  AF_PAIRS=4000000        # alloc/free pairs per thread
  BT_DEPTH=19
  PAUSE_ARGS="150000 1024 600000"
  SCALE_DEPTHS="16 17 18 19 20"
  SCALE_REPS=3
  FIB_N=100000
  FIB_SWITCHES=1000000
  SOAK_SECONDS=15
  GEN_ARGS="100 400"      # gen.c: structure MB, garbage MB
  SHRINK_ARGS="1024 3"    # shrink.c: live MB before the drop, seconds after
  GEN_REPS=${USER_REPS:-3}
  GCB_REPS=${USER_REPS:-15} # GCBench runs 0.2 s: 5 left its ratios (1.1-1.45x) to the noise
  PROG_SIZE=normal        # bench/programs/*: their own sizes (1-3 s each on stock)
  PROG_REPS=${USER_REPS:-7} # 3, then 5, left the verdict to the machine's noise (+-10%)
  ;;
full)
  REPS=${REPS:-5}
  AF_PAIRS=10000000
  BT_DEPTH=21
  PAUSE_ARGS="200000 1024 1000000"
  SCALE_DEPTHS="16 17 18 19 20 21 22"
  SCALE_REPS=3
  FIB_N=100000
  FIB_SWITCHES=5000000
  SOAK_SECONDS=120
  GEN_ARGS="400 3000"
  SHRINK_ARGS="1024 5"
  GEN_REPS=$REPS
  GCB_REPS=${USER_REPS:-15}
  PROG_SIZE=normal
  PROG_REPS=$REPS
  ;;
smoke)
  REPS=${REPS:-1}
  AF_PAIRS=50000
  BT_DEPTH=12
  PAUSE_ARGS="2000 1024 10000"
  SCALE_DEPTHS="10 12"
  SCALE_REPS=1
  FIB_N=1000
  FIB_SWITCHES=10000
  SOAK_SECONDS=3
  GEN_ARGS="8 32"
  SHRINK_ARGS="32 0.5"
  GEN_REPS=$REPS
  GCB_REPS=$REPS
  PROG_SIZE=smoke         # the programs' tiny sizes (PROG_SIZE=smoke in their environment)
  PROG_REPS=$REPS
  ;;
*) echo "run.sh: BENCH must be quick, full or smoke (got '$MODE')" >&2; exit 2 ;;
esac
AF_WINDOW=1000
SOAK_THREADS=4 # soak: worker threads (one run per variant, SOAK_SECONDS long)
SPANGC_RSS_LIMIT_MB=8192 # safety net for every spangc peer run (RSS watchdog)
OTHER_RSS_LIMIT_MB=12288
RUN_TIMEOUT_S=1800

ALL_PARTS="allocfree binarytrees gcbench pause pause1g stall scaling gen wpcost sizing memlimit shrink fibers soak programs"
PARTS=${*:-$ALL_PARTS}
for p in $PARTS; do
  case " $ALL_PARTS " in *" $p "*) ;; *) echo "run.sh: unknown part '$p' (parts: $ALL_PARTS)" >&2; exit 2 ;; esac
done
want() { case " $PARTS " in *" $1 "*) return 0 ;; esac; return 1; }

mkdir -p "$OUT/logs" "$OUT/checks" "$OUT/data"
RES=$OUT/results.tsv
MD=$OUT/results.md
: >"$RES"
rm -f "$OUT"/checks/* "$OUT"/data/* "$OUT"/logs/* "$OUT"/*.png
FAIL=0
FAILURES=()
fail() { FAIL=1; FAILURES+=("$*"); echo "!!! FAIL: $*" >&2; }
say() { echo "$*"; }
hr() { echo; echo "=== $* ==="; }
CC=${CC:-gcc}
CFLAGS="-O2 -Wall -Wextra -Wno-unused-parameter"

# ---------------------------------------------------------------- packages
# Debian packages: what is missing is installed when running as root, else the
# apt-get line is printed and the variants that need it are skipped.
declare -A HAVE
declare -A PROG_LIBGC PROG_OK
have_bdwgc() { [ -f /usr/include/gc.h ] || [ -f /usr/include/gc/gc.h ]; }
have_mimalloc() { [ -f /usr/include/mimalloc.h ]; }
have_go() { command -v go >/dev/null 2>&1; }
have_gnuplot() { command -v gnuplot >/dev/null 2>&1; }
have_guile() { command -v guile >/dev/null 2>&1; }
have_ecl() { command -v ecl >/dev/null 2>&1; }
check_packages() {
  local missing=() p
  have_bdwgc || missing+=(libgc-dev)
  have_mimalloc || missing+=(libmimalloc-dev)
  have_go || missing+=(golang-go)
  have_gnuplot || missing+=(gnuplot-nox)
  if want programs; then # only the programs part needs them
    have_guile || missing+=(guile-3.0)
    have_ecl || missing+=(ecl)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$MODE" = smoke ]; then
      say "smoke run: not installing ${missing[*]}; those variants are skipped"
    elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      say "installing missing Debian packages: ${missing[*]} (log: $OUT/logs/apt.log)"
      DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y "${missing[@]}" \
        >"$OUT/logs/apt.log" 2>&1 ||
        { apt-get -o DPkg::Lock::Timeout=600 update >>"$OUT/logs/apt.log" 2>&1 &&
          DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y "${missing[@]}" \
            >>"$OUT/logs/apt.log" 2>&1; } ||
        say "apt-get install failed (see $OUT/logs/apt.log)"
    else
      say "missing packages; to get every variant run as root:  apt-get install -y ${missing[*]}"
    fi
  fi
  HAVE[bdwgc]=0; HAVE[mimalloc]=0; HAVE[go]=0; HAVE[gnuplot]=0
  have_bdwgc && HAVE[bdwgc]=1 || say "skipping bdwgc variants (needs: apt-get install -y libgc-dev)"
  have_mimalloc && HAVE[mimalloc]=1 || say "skipping mimalloc variants (needs: apt-get install -y libmimalloc-dev)"
  have_go && HAVE[go]=1 || say "skipping Go variants (needs: apt-get install -y golang-go)"
  have_gnuplot && HAVE[gnuplot]=1 || say "skipping plots (needs: apt-get install -y gnuplot-nox)"
  HAVE[guile]=0; HAVE[ecl]=0
  if want programs; then
    have_guile && HAVE[guile]=1 || say "skipping the Guile programs (needs: apt-get install -y guile-3.0)"
    have_ecl && HAVE[ecl]=1 || say "skipping the ECL programs (needs: apt-get install -y ecl)"
  fi
  return 0
}

# ---------------------------------------------------------------- spangc
PREFIX=$OUT/prefix
SGC_BUILD=${SPANGC_BUILD_DIR:-$ROOT/build} # where make build put spangc
SGC_CFLAGS=""
SGC_LIBS=""
HAVE[spangc]=0
HAVE[collector]=0
COLLECTOR_STATE="not probed (allocfree only)"
install_spangc() {
  # Run alone (bash bench/run.sh PART), the script would time whatever
  # build/ last held, or, in a fresh clone, nothing: configure make build's
  # directory if it is not yet, and bring it up to date (nothing to do
  # after make bench).  A directory given with SPANGC_BUILD_DIR is the
  # caller's (make check's smoke run builds it first); only say if stale.
  if [ -z "${SPANGC_BUILD_DIR:-}" ]; then
    if [ ! -e "$SGC_BUILD/CMakeCache.txt" ] &&
      ! cmake -S "$ROOT" -B "$SGC_BUILD" -DCMAKE_BUILD_TYPE=Release >"$OUT/logs/configure.log" 2>&1; then
      fail "configuring $SGC_BUILD failed (see $OUT/logs/configure.log)"
      return
    fi
    if ! cmake --build "$SGC_BUILD" -j"$(nproc)" >"$OUT/logs/build.log" 2>&1; then
      fail "cmake --build $SGC_BUILD failed (see $OUT/logs/build.log)"
      return
    fi
  elif [ ! -e "$SGC_BUILD/libspangc.so" ]; then
    say "spangc: $SGC_BUILD/libspangc.so not found: spangc variants skipped"
    return
  elif [ -n "$(find "$ROOT/src" "$ROOT/include" "$ROOT/compat" -newer "$(readlink -f "$SGC_BUILD/libspangc.so")" -name '*.[ch]' -print -quit)" ]; then
    say "WARNING: $SGC_BUILD/libspangc.so is older than the sources: spangc figures are of an old build"
  fi
  local bt
  bt=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$SGC_BUILD/CMakeCache.txt" 2>/dev/null)
  [ "$bt" = Release ] || say "WARNING: build/ is configured with CMAKE_BUILD_TYPE='$bt', not Release: spangc figures are not meaningful"
  rm -rf "$PREFIX"
  if ! cmake --install "$SGC_BUILD" --prefix "$PREFIX" >"$OUT/logs/install.log" 2>&1; then
    say "spangc: cmake --install failed (see $OUT/logs/install.log): spangc variants skipped"
    return
  fi
  local pc
  pc=$(find "$PREFIX" -name spangc.pc | head -n1)
  if [ -z "$pc" ]; then say "spangc: no spangc.pc installed: spangc variants skipped"; return; fi
  export PKG_CONFIG_PATH=$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
  # spangc.pc is configured with the build's CMAKE_INSTALL_PREFIX; point it at ours.
  local pcopt=(--define-variable=prefix="$PREFIX")
  SGC_CFLAGS=$(pkg-config "${pcopt[@]}" --cflags spangc) || { say "spangc: pkg-config failed: spangc variants skipped"; return; }
  SGC_LIBS=$(pkg-config "${pcopt[@]}" --libs spangc)
  local libdir
  libdir=$(pkg-config "${pcopt[@]}" --variable=libdir spangc)
  if [ ! -e "$libdir/libspangc.so" ]; then
    say "spangc: pkg-config libdir $libdir has no libspangc.so: spangc variants skipped"; return
  fi
  SGC_LIBS="$SGC_LIBS -Wl,-rpath,$libdir"
  export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  HAVE[spangc]=1
  say "spangc $(pkg-config --modversion spangc) installed in $PREFIX (cflags: $SGC_CFLAGS; libs: $SGC_LIBS)"
}

# Our bdwgc-compatible libgc.so.1 (compat/bdwgc) and the headers to compile
# the -DUSE_BDWGC sources against.  Sets GCC_CFLAGS, GCC_LIBS, GCC_LIBDIR.
GCC_CFLAGS=""
GCC_LIBS=""
GCC_LIBDIR=""
HAVE[gccompat]=0
find_gc_compat() {
  local lib="" inc=""
  [ -d "$PREFIX" ] && lib=$(find "$PREFIX" -name libgc.so.1 2>/dev/null | head -n1)
  [ -n "$lib" ] || { [ -e "$SGC_BUILD/compat/bdwgc/libgc.so.1" ] && lib=$SGC_BUILD/compat/bdwgc/libgc.so.1; }
  if [ -z "$lib" ]; then
    say "bdwgc API on spangc: no libgc.so.1 in $PREFIX or $SGC_BUILD/compat/bdwgc (make build builds it): variant skipped"
    return
  fi
  # headers: the installed ones (include/spangc-bdwgc) with an installed
  # library, else the source tree's
  if [ "${lib#"$PREFIX"/}" != "$lib" ] && [ -f "$PREFIX/include/spangc-bdwgc/gc.h" ]; then
    inc=$PREFIX/include/spangc-bdwgc
  else
    inc=$ROOT/compat/bdwgc/include
  fi
  [ -f "$inc/gc.h" ] || { say "bdwgc API on spangc: no gc.h in $inc: variant skipped"; return; }
  GCC_LIBDIR=$(cd "$(dirname "$lib")" && pwd -P)
  GCC_CFLAGS="-I$inc"
  if [ -e "$GCC_LIBDIR/libgc.so" ]; then GCC_LIBS="-L$GCC_LIBDIR -lgc"; else GCC_LIBS="$GCC_LIBDIR/libgc.so.1"; fi
  GCC_LIBS="$GCC_LIBS -Wl,-rpath,$GCC_LIBDIR"
  HAVE[gccompat]=1
  say "bdwgc API on spangc: $GCC_LIBDIR/libgc.so.1 (cflags: $GCC_CFLAGS; libs: $GCC_LIBS)"
}
# which libgc.so.1 the binary BIN loads when run as run_one runs it
libgc_of() {
  case $(basename "$1") in
  *-bdwgc | *-bdwgcm) env -u LD_LIBRARY_PATH ldd "$1" ;;
  *) ldd "$1" ;;
  esac 2>/dev/null | awk '$1 == "libgc.so.1" { print $3 }' | xargs -r readlink -f
}

# Does spangc collect garbage yet?  (bench/probe.c)
probe_collector() {
  [ "${HAVE[spangc]}" = 1 ] || return
  if ! $CC $CFLAGS "$HERE/probe.c" -o "$OUT/probe" $SGC_CFLAGS $SGC_LIBS 2>"$OUT/logs/probe-build.log"; then
    say "spangc: probe does not build (see $OUT/logs/probe-build.log)"; return
  fi
  local st=0
  "$OUT/measure" -o "$OUT/logs/probe.measure" -m 1024 -t 120 -- "$OUT/probe" >"$OUT/logs/probe.out" 2>&1 || st=$?
  say "$(cat "$OUT/logs/probe.out")"
  COLLECTOR_STATE="no (probe: heap grows without bound; peer variants skipped)"
  if [ $st = 0 ]; then
    HAVE[collector]=1
    COLLECTOR_STATE=yes
  elif [ "${SPANGC_BENCH_ASSUME_COLLECTOR:-0}" = 1 ]; then
    say "spangc: SPANGC_BENCH_ASSUME_COLLECTOR=1: running the peer variants anyway (testing the script only; the RSS watchdog still applies)"
    HAVE[collector]=1
    COLLECTOR_STATE="ASSUMED (SPANGC_BENCH_ASSUME_COLLECTOR=1; probe failed)"
  else
    [ $st = 1 ] || say "spangc: probe failed with status $st (see $OUT/logs/probe.out)"
    say "spangc: collector not available yet (issue 4), peer variants skipped"
  fi
}

# ---------------------------------------------------------------- building
# Every run, the collector probe's included, goes through measure: it is
# built first.
build_measure() {
  $CC $CFLAGS -pthread "$HERE/measure.c" -o "$OUT/measure" || { echo "run.sh: cannot build measure" >&2; exit 1; }
}

build_all() {
  local b=$OUT/bin
  mkdir -p "$b"
  rm -f "$b"/*
  wrap() { # name, binary in bin/, VAR=value: a script running the binary with VAR set
    [ -x "$b/$2" ] || return 0
    printf '#!/bin/sh\n# %s with %s (bench/run.sh)\nexport %s\nexec "$(dirname "$0")/%s" "$@"\n' \
      "$2" "$3" "$3" "$2" >"$b/$1" && chmod +x "$b/$1"
  }
  bld() { # name, then compiler arguments
    local n=$1; shift
    if ! $CC $CFLAGS "$@" -o "$b/$n" 2>"$OUT/logs/build-$n.log"; then
      fail "build of $n failed: $(head -n 5 "$OUT/logs/build-$n.log")"
    fi
  }
  # allocfree
  bld af-malloc -DV_MALLOC -pthread "$HERE/allocfree.c"
  bld af-calloc -DV_CALLOC -pthread "$HERE/allocfree.c"
  [ "${HAVE[mimalloc]}" = 1 ] && bld af-mimalloc -DV_MIMALLOC -pthread "$HERE/allocfree.c" -lmimalloc
  if [ "${HAVE[spangc]}" = 1 ]; then
    bld af-spangc -DV_SPANGC -pthread "$HERE/allocfree.c" $SGC_CFLAGS $SGC_LIBS
    bld af-spangc-noscan -DV_SPANGC_NOSCAN -pthread "$HERE/allocfree.c" $SGC_CFLAGS $SGC_LIBS
  fi
  # peers
  local src
  for src in binarytrees gcbench pause; do
    local s=$PEERS/$src.c
    if [ "${HAVE[bdwgc]}" = 1 ]; then
      bld $src-bdwgc -DUSE_BDWGC "$s" -lgc
      bld $src-bdwgcm -DUSE_BDWGC -DBDWGC_MARKERS "$s" -lgc
    fi
    if [ "${HAVE[spangc]}" = 1 ] && [ "${HAVE[collector]}" = 1 ]; then
      bld $src-spangc -DUSE_PROJECT -DPROJECT_H='"spangc-peer.h"' -I"$PEERS" "$s" $SGC_CFLAGS $SGC_LIBS
    fi
    if [ "${HAVE[gccompat]}" = 1 ] && [ "${HAVE[collector]}" = 1 ]; then
      bld $src-bdwgc-api-on-spangc -DUSE_BDWGC $GCC_CFLAGS "$s" $GCC_LIBS
    fi
  done
  # soak: threads, so bdwgc's variants are built with GC_THREADS (in soak.c)
  if [ "${HAVE[bdwgc]}" = 1 ]; then bld soak-bdwgc -DUSE_BDWGC -pthread "$PEERS/soak.c" -lgc; fi
  if [ "${HAVE[spangc]}" = 1 ] && [ "${HAVE[collector]}" = 1 ]; then
    bld soak-spangc -DUSE_PROJECT -DPROJECT_H='"spangc-peer.h"' -I"$PEERS" -pthread "$PEERS/soak.c" $SGC_CFLAGS $SGC_LIBS
  fi
  if [ "${HAVE[gccompat]}" = 1 ] && [ "${HAVE[collector]}" = 1 ]; then
    bld soak-bdwgc-api-on-spangc -DUSE_BDWGC -pthread $GCC_CFLAGS "$PEERS/soak.c" $GCC_LIBS
  fi
  # gen.c: spangc's API and bdwgc's
  if [ "${HAVE[spangc]}" = 1 ] && [ "${HAVE[collector]}" = 1 ]; then
    bld gen-spangc "$HERE/gen.c" $SGC_CFLAGS $SGC_LIBS
  fi
  [ "${HAVE[bdwgc]}" = 1 ] && bld gen-bdwgc -DUSE_BDWGC "$HERE/gen.c" -lgc
  # shrink.c: the live heap drops to a tenth
  if [ "${HAVE[spangc]}" = 1 ] && [ "${HAVE[collector]}" = 1 ]; then
    bld shrink-spangc "$HERE/shrink.c" $SGC_CFLAGS $SGC_LIBS
  fi
  [ "${HAVE[bdwgc]}" = 1 ] && bld shrink-bdwgc -DUSE_BDWGC "$HERE/shrink.c" -lgc
  # spangc with generations off / dirty-page tracking off: the same binary
  # under an environment variable, through a script that execs it (so
  # measure's wait4 figures are the program's)
  for src in binarytrees gcbench pause gen; do
    wrap $src-spangc-nogen $src-spangc SPANGC_GENERATIONAL=0
  done
  # mostly-concurrent major collections (issue #14)
  for src in binarytrees gcbench pause; do
    wrap $src-spangc-conc $src-spangc SPANGC_CONCURRENT=1
  done
  wrap gen-spangc-nodirty gen-spangc SPANGC_DIRTY=off
  # heap sizing by the square-root rule (part sizing, issue #15)
  for src in binarytrees gcbench pause gen; do
    wrap $src-spangc-sqrt $src-spangc SPANGC_SIZING=sqrt
  done
  # the soft memory limit at 1.5x gen.c's structure (part memlimit)
  wrap gen-spangc-memlimit gen-spangc SPANGC_MEMLIMIT=$(( ${GEN_ARGS%% *} * 3 / 2 ))MiB
  check_libgc_binding
  bld binarytrees-malloc "$PEERS/binarytrees.c"
  bld pause-malloc -DUSE_MALLOC "$PEERS/pause.c"
  [ "${HAVE[spangc]}" = 1 ] && bld fibers-spangc "$HERE/fibers.c" $SGC_CFLAGS $SGC_LIBS
  if [ "${HAVE[mimalloc]}" = 1 ]; then
    bld binarytrees-mimalloc -DUSE_MIMALLOC "$PEERS/binarytrees.c" -lmimalloc
    bld pause-mimalloc -DUSE_MIMALLOC "$PEERS/pause.c" -lmimalloc
  fi
  if [ "${HAVE[go]}" = 1 ]; then
    local g
    for g in binarytrees pause; do
      if ! (cd "$PEERS" && GOCACHE=$OUT/gocache GOPATH=$OUT/gopath GO111MODULE=off GOFLAGS= \
        go build -o "$b/$g-go" "$g.go") >"$OUT/logs/build-$g-go.log" 2>&1; then
        fail "go build of $g.go failed: $(head -n 5 "$OUT/logs/build-$g-go.log")"
      fi
    done
  fi
}

# The stock bdwgc variants must load Debian's libgc.so.1 and ours must load
# ours: a bdwgc figure measured on the wrong library would be worthless.
LIBGC_STOCK="-"
LIBGC_OURS="-"
check_libgc_binding() {
  local b=$OUT/bin f got
  for f in "$b"/*-bdwgc "$b"/*-bdwgcm; do
    [ -x "$f" ] || continue
    got=$(libgc_of "$f")
    LIBGC_STOCK=${got:-?}
    if [ -n "$GCC_LIBDIR" ] && [ "$(dirname "$got")" = "$GCC_LIBDIR" ]; then
      fail "$(basename "$f") would load OUR libgc.so.1 ($got), not Debian's"; rm -f "$f"
    fi
  done
  for f in "$b"/*-bdwgc-api-on-spangc; do
    [ -x "$f" ] || continue
    got=$(libgc_of "$f")
    LIBGC_OURS=${got:-?}
    if [ "$(dirname "$got")" != "$GCC_LIBDIR" ]; then
      fail "$(basename "$f") would load $got, not our $GCC_LIBDIR/libgc.so.1"; rm -f "$f"
    fi
  done
}

# ---------------------------------------------------------------- running
# run_one BENCH PARAMS VARIANT REP COMMAND...
# Appends one line to results.tsv:
#   bench params variant rep status wall_s cpu_s maxrss_kb stats(k=v,...)
run_one() {
  local bench=$1 params=$2 variant=$3 rep=$4; shift 4
  local slug=${bench}_${params// /_}
  slug=${slug//[^A-Za-z0-9_.=-]/}
  local log=$OUT/logs/$slug.$variant.$rep
  local limit=$OTHER_RSS_LIMIT_MB
  local envcmd=()
  case $variant in
  spangc* | *-on-spangc) limit=$SPANGC_RSS_LIMIT_MB ;;
  bdwgc | bdwgcm) envcmd=(env -u LD_LIBRARY_PATH) ;; # Debian's libgc.so.1, never one from LD_LIBRARY_PATH
  stock) envcmd=(env -u LD_LIBRARY_PATH) ;;                # part programs: Debian's libgc.so.1
  ours) envcmd=(env LD_LIBRARY_PATH="$GCC_LIBDIR") ;;     # part programs: our libgc.so.1 (soname libgc.so.1)
  esac
  rm -f "$log.measure"
  local st=0
  "${envcmd[@]}" "$OUT/measure" -o "$log.measure" -m "$limit" -t "$RUN_TIMEOUT_S" -- "$@" >"$log.out" 2>"$log.err" || st=$?
  local m wall cpu rss status=ok
  m=$(cat "$log.measure" 2>/dev/null)
  wall=$(sed -n 's/.*wall_s=\([^ ]*\).*/\1/p' <<<"$m")
  cpu=$(sed -n 's/.*cpu_s=\([^ ]*\).*/\1/p' <<<"$m")
  rss=$(sed -n 's/.*maxrss_kb=\([^ ]*\).*/\1/p' <<<"$m")
  if [ $st != 0 ]; then
    status=failed
    fail "$bench ($params) $variant rep $rep: exit status $st ($(sed -n 's/.*killed=//p' <<<"$m")); $(tail -n 3 "$log.err" | tr '\n' ' ')"
  fi
  local stats
  stats=$(sed -n 's/^stats: //p' "$log.out" | tr ' ' ',')
  if [ $status = ok ]; then
    grep 'check:' "$log.out" >"$log.check"
    local ref=$OUT/checks/$slug.ref
    if [ ! -s "$log.check" ]; then
      status=failed; fail "$bench ($params) $variant rep $rep printed no check line"
    elif [ ! -e "$ref" ]; then
      cp "$log.check" "$ref"; echo "$variant" >"$ref.who"
    elif ! cmp -s "$ref" "$log.check"; then
      status=mismatch
      fail "CHECK MISMATCH in $bench ($params): $variant rep $rep differs from $(cat "$ref.who"):
$(diff "$ref" "$log.check" | head -n 10)"
    fi
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$bench" "$params" "$variant" "$rep" "$status" \
    "${wall:-NA}" "${cpu:-NA}" "${rss:-NA}" "$stats" >>"$RES"
  printf '  %-14s %-28s rep %d: wall %6ss cpu %6ss rss %6d MB %s\n' "$bench" "$variant" "$rep" \
    "${wall:-NA}" "${cpu:-NA}" "$(( ${rss:-0} / 1024 ))" "$( [ $status = ok ] || echo "[$status]")"
}

# med BENCH PARAMS VARIANT FIELD  -> median over ok runs (NA if none)
# FIELD: wall cpu rss (MB) or a key of the program's "stats:" line
# median: the median of the numbers on stdin, one per line; NA if none
median() {
  sort -g | awk '{ a[NR] = $1 } END {
    if (NR == 0) print "NA"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
med() {
  awk -F'\t' -v b="$1" -v p="$2" -v v="$3" -v f="$4" '
    $1 == b && $2 == p && $3 == v && $5 == "ok" {
      val = ""
      if (f == "wall") val = $6; else if (f == "cpu") val = $7; else if (f == "rss") val = $8 / 1024
      else { n = split($9, a, ","); for (i = 1; i <= n; i++) { split(a[i], kv, "="); if (kv[1] == f) val = kv[2] } }
      if (val != "" && val != "NA") print val
    }' "$RES" | median
}
# pmed BENCH PARAMS A B FIELD -> the median, over the reps where both ran,
# of variant A's FIELD (wall, cpu, rss, wallrss: wall x rss) over variant
# B's in the same rep:
# the two ran back to back, so a change of the machine's speed between
# reps cancels out
pmed() {
  awk -F'\t' -v b="$1" -v p="$2" -v x="$3" -v y="$4" -v f="$5" '
    $1 == b && $2 == p && $5 == "ok" && ($3 == x || $3 == y) {
      val = (f == "wall") ? $6 : (f == "cpu") ? $7 : (f == "rss") ? $8 : \
            ($6 == "NA" || $8 == "NA") ? "NA" : $6 * $8 # wallrss: time x memory
      if (val == "" || val == "NA") next
      if ($3 == x) xv[$4] = val; else yv[$4] = val
    }
    END { for (r in xv) if ((r in yv) && yv[r] + 0 > 0) print xv[r] / yv[r] }' "$RES" | median
}
# ratio A B -> A/B with 2 decimals, "-" if either is missing
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || a == "" || b == "" || b + 0 == 0) print "-"; else { r = a / b; printf (r < 0.1 ? "%.3fx" : "%.2fx"), r } }'; }
fmt() { awk -v a="$1" -v f="$2" 'BEGIN { if (a == "NA" || a == "") print "-"; else printf f, a }'; }
# mark VALUE LIMIT -> "met" / "NOT met" / "n/a"  (VALUE <= LIMIT)
mark() { awk -v a="$1" -v l="$2" 'BEGIN { if (a == "NA" || a == "" || a == "-") print "n/a"; else if (a + 0 <= l + 0) print "met"; else print "NOT met" }'; }

# table: reads "|"-separated rows on stdin (first row: header), prints a padded
# Markdown table on stdout and appends it to results.md
table() {
  awk -F'|' '
    { n = NF; for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } if (NF > maxn) maxn = NF }
    END {
      for (r = 1; r <= NR; r++) {
        line = "|"
        for (i = 1; i <= maxn; i++) line = line sprintf(" %-" w[i] "s |", c[r, i])
        print line
        if (r == 1) { line = "|"; for (i = 1; i <= maxn; i++) { s = ""; for (k = 0; k < w[i] + 2; k++) s = s "-"; line = line s "|" } print line }
      }
    }' | tee -a "$MD"
  echo | tee -a "$MD" >/dev/null
}
mdsay() { echo "$*" | tee -a "$MD"; }

# ---------------------------------------------------------------- labels
declare -A LABEL=(
  [malloc]="glibc malloc/free"
  [calloc]="glibc calloc/free"
  [mimalloc]="mimalloc"
  [spangc]="spangc"
  [spangc-noscan]="spangc noscan"
  [bdwgc]="bdwgc (markers not started)"
  [bdwgcm]="bdwgc + markers (GC_start_mark_threads)"
  [bdwgc-api-on-spangc]="bdwgc API on spangc (our libgc.so.1)"
  [go]="Go $(go version 2>/dev/null | awk '{print $3}')"
  [spangc-m1]="spangc SPANGC_MARKERS=1"
  [spangc-m2]="spangc SPANGC_MARKERS=2"
  [spangc-nogen]="spangc, generations off (SPANGC_GENERATIONAL=0)"
  [spangc-conc]="spangc, concurrent marking (SPANGC_CONCURRENT=1)"
  [spangc-nodirty]="spangc, tracking off (SPANGC_DIRTY=off)"
  [spangc-sqrt]="spangc, square-root sizing (SPANGC_SIZING=sqrt)"
)
exists() { [ -x "$OUT/bin/$1" ]; }

# ---------------------------------------------------------------- allocfree
part_allocfree() {
  hr "allocfree: alloc/free pairs, mixed sizes, window $AF_WINDOW per thread, $AF_PAIRS pairs per thread, $REPS reps"
  local vs=() v t r
  for v in spangc spangc-noscan malloc calloc mimalloc; do exists af-$v && vs+=($v); done
  [ "${HAVE[spangc]}" = 1 ] || say "spangc not installed: allocfree runs without spangc"
  for r in $(seq 1 "$REPS"); do
    for t in 1 2; do
      for v in "${vs[@]}"; do
        run_one allocfree "t=$t" "$v" "$r" "$OUT/bin/af-$v" -t $t -n "$AF_PAIRS" -w "$AF_WINDOW"
      done
    done
  done
  echo
  mdsay "### allocfree (ns per alloc+free pair, median of $REPS; per-thread figure, so equal 1- and 2-thread numbers mean perfect scaling)"
  mdsay ""
  mdsay "Sizes: 1 in 1000 of 64 KiB..1 MiB, else 90% 16..512 B and 10% 513 B..32 KiB; window $AF_WINDOW objects per thread; $AF_PAIRS timed pairs per thread; each new object written (first word, last byte, one byte per 4 KiB), each freed one read back."
  mdsay ""
  local m1 m2 b1 b2
  b1=$(med allocfree t=1 malloc ns_per_pair); b2=$(med allocfree t=2 malloc ns_per_pair)
  {
    echo "variant|1 thread ns/pair|vs malloc|2 threads ns/pair|vs malloc|peak RSS MB (2 threads)"
    for v in "${vs[@]}"; do
      m1=$(med allocfree t=1 "$v" ns_per_pair); m2=$(med allocfree t=2 "$v" ns_per_pair)
      echo "${LABEL[$v]}|$(fmt "$m1" %.1f)|$(ratio "$m1" "$b1")|$(fmt "$m2" %.1f)|$(ratio "$m2" "$b2")|$(fmt "$(med allocfree t=2 "$v" rss)" %.0f)"
    done
  } | table
  if exists af-spangc; then
    local r1 r2
    r1=$(awk -v a="$(med allocfree t=1 spangc ns_per_pair)" -v b="$b1" 'BEGIN { if (a == "NA" || b == "NA") print "NA"; else printf "%.2f", a / b }')
    r2=$(awk -v a="$(med allocfree t=2 spangc ns_per_pair)" -v b="$b2" 'BEGIN { if (a == "NA" || b == "NA") print "NA"; else printf "%.2f", a / b }')
    mdsay "Target (issue 3): spangc alloc+free <= 1.2x glibc malloc/free: 1 thread ${r1}x **$(mark "$r1" 1.2)**, 2 threads ${r2}x **$(mark "$r2" 1.2)**"
  else
    mdsay "Target (issue 3): spangc alloc+free <= 1.2x glibc malloc/free: n/a (spangc not built)"
  fi
  mdsay ""
}

# ---------------------------------------------------------------- fibers
# bench/fibers.c prints "key value" lines: switch round trips (spangc fiber,
# ucontext swapcontext, plain call) and resident memory per idle fiber
# before and after a collection shrinks the stacks.
part_fibers() {
  hr "fibers: switch cost and memory per idle fiber ($FIB_N fibers, $REPS reps)"
  if ! exists fibers-spangc; then
    mdsay "### fibers: n/a (spangc not built)"; mdsay ""; return
  fi
  local r log
  rm -f "$OUT"/logs/fibers-*.log
  for r in $(seq 1 "$REPS"); do
    log=$OUT/logs/fibers-$r.log
    if ! "$OUT/bin/fibers-spangc" "$FIB_N" "$FIB_SWITCHES" >"$log" 2>"$OUT/logs/fibers-$r.err"; then
      fail "fibers run $r failed: $(tail -n 3 "$OUT/logs/fibers-$r.err")"
      continue
    fi
  done
  fmed() { # key -> median over the runs' logs
    cat "$OUT"/logs/fibers-*.log 2>/dev/null | awk -v k="$1" '$1 == k { print $2 }' | sort -g |
      awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else print v[int((NR + 1) / 2)] }'
  }
  local f u c b a
  f=$(fmed switch_roundtrip_ns_spangc); u=$(fmed switch_roundtrip_ns_swapcontext); c=$(fmed call_ns_plain)
  b=$(fmed idle_fiber_rss_bytes_before_shrink); a=$(fmed idle_fiber_rss_bytes_after_shrink)
  mdsay "### fibers (median of $REPS)"
  mdsay ""
  {
    echo "figure|value"
    echo "switch round trip, spangc fibers|$(fmt "$f" %.1f) ns"
    echo "switch round trip, ucontext swapcontext|$(fmt "$u" %.1f) ns ($(ratio "$u" "$f") the spangc time)"
    echo "plain function call|$(fmt "$c" %.2f) ns"
    echo "RSS per idle fiber ($FIB_N fibers, 64 KiB touched each), before a collection|$(fmt "$b" %.0f) B"
    echo "RSS per idle fiber after the collection shrank their stacks|$(fmt "$a" %.0f) B"
  } | table
  mdsay "Targets (issue 8): switch faster than swapcontext: **$(awk -v f="$f" -v u="$u" 'BEGIN { if (f == "NA" || u == "NA") print "n/a"; else if (f + 0 < u + 0) print "met"; else print "NOT met" }')**; idle fiber after shrinking <= 8 KiB: **$(mark "$a" 8192)**"
  mdsay ""
}

# ---------------------------------------------------------------- peer tables
# peer_table BENCH PARAMS "variants..." [pause]
peer_table() {
  local bench=$1 params=$2 vs=$3 kind=${4:-} v
  local bw bm br mr bwp
  bw=$(med "$bench" "$params" bdwgc wall); br=$(med "$bench" "$params" bdwgc rss)
  bm=$(med "$bench" "$params" malloc wall); mr=$(med "$bench" "$params" malloc rss)
  if [ "$kind" = pause ]; then
    local bwo bwmo mwo
    bwo=$(med "$bench" "$params" bdwgc worst_ms); bwmo=$(med "$bench" "$params" bdwgcm worst_ms)
    mwo=$(med "$bench" "$params" malloc worst_ms)
    echo "variant|wall s|CPU s|peak RSS MB|worst push ms|pushes > 1 ms|p99.9 ms|worst vs bdwgc|worst vs bdwgc+m|worst vs malloc|wall vs bdwgc|RSS vs bdwgc|RSS vs malloc"
    for v in $vs; do
      local w c r wo
      w=$(med "$bench" "$params" "$v" wall); c=$(med "$bench" "$params" "$v" cpu); r=$(med "$bench" "$params" "$v" rss)
      wo=$(med "$bench" "$params" "$v" worst_ms)
      echo "${LABEL[$v]}|$(fmt "$w" %.2f)|$(fmt "$c" %.2f)|$(fmt "$r" %.0f)|$(fmt "$wo" %.2f)|$(fmt "$(med "$bench" "$params" "$v" over_1ms)" %.0f)|$(fmt "$(med "$bench" "$params" "$v" p999_ms)" %.3f)|$(ratio "$wo" "$bwo")|$(ratio "$wo" "$bwmo")|$(ratio "$wo" "$mwo")|$(ratio "$w" "$bw")|$(ratio "$r" "$br")|$(ratio "$r" "$mr")"
    done
  else
    echo "variant|wall s|CPU s|peak RSS MB|wall vs bdwgc|wall vs malloc|RSS vs bdwgc|RSS vs malloc"
    for v in $vs; do
      local w c r
      w=$(med "$bench" "$params" "$v" wall); c=$(med "$bench" "$params" "$v" cpu); r=$(med "$bench" "$params" "$v" rss)
      echo "${LABEL[$v]}|$(fmt "$w" %.2f)|$(fmt "$c" %.2f)|$(fmt "$r" %.0f)|$(ratio "$w" "$bw")|$(ratio "$w" "$bm")|$(ratio "$r" "$br")|$(ratio "$r" "$mr")"
    done
  fi
}
# value of A/B as a plain number (NA if missing)
quot() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b + 0 == 0) print "NA"; else printf "%.2f", a / b }'; }
spangc_note() {
  if [ "${HAVE[spangc]}" != 1 ]; then echo "n/a (spangc not built)"
  elif [ "${HAVE[collector]}" != 1 ]; then echo "n/a (spangc collector not available yet, issue 4)"
  else echo ""; fi
}
# api_note BENCH PARAMS [pause]: the ratio line "bdwgc API on spangc vs bdwgc"
# (our libgc.so.1 under the unchanged -DUSE_BDWGC program, against Debian's
# bdwgc and against spangc's own API)
api_note() {
  local b=$1 p=$2 v=bdwgc-api-on-spangc
  if ! exists "$b-$v"; then
    local why="the build failed, see $OUT/logs/build-$b-$v.log"
    if [ "${HAVE[gccompat]}" != 1 ]; then why="our libgc.so.1 not built"
    elif [ "${HAVE[collector]}" != 1 ]; then why=$(spangc_note | sed 's/^n\/a (//; s/)$//'); fi
    mdsay "bdwgc API on spangc vs bdwgc: n/a ($why)"
    return
  fi
  local w r line
  w=$(med "$b" "$p" $v wall); r=$(med "$b" "$p" $v rss)
  line="bdwgc API on spangc vs bdwgc: wall $(ratio "$w" "$(med "$b" "$p" bdwgc wall)"), peak RSS $(ratio "$r" "$(med "$b" "$p" bdwgc rss)")"
  if [ "${3:-}" = pause ]; then
    local wo; wo=$(med "$b" "$p" $v worst_ms)
    line="$line, worst push $(ratio "$wo" "$(med "$b" "$p" bdwgc worst_ms)") ($(ratio "$wo" "$(med "$b" "$p" bdwgcm worst_ms)") vs bdwgc + markers)"
  else
    line="$line (wall $(ratio "$w" "$(med "$b" "$p" bdwgcm wall)") vs bdwgc + markers)"
  fi
  line="$line; vs spangc's own API: wall $(ratio "$w" "$(med "$b" "$p" spangc wall)"), peak RSS $(ratio "$r" "$(med "$b" "$p" spangc rss)")"
  mdsay "$line"
}
# nogen_note BENCH PARAMS [pause]: generational spangc against the same
# binary with SPANGC_GENERATIONAL=0 (medians)
nogen_note() {
  local b=$1 p=$2
  if ! exists "$b-spangc-nogen"; then
    mdsay "generational vs generations off: n/a (spangc variant not built)"; return
  fi
  local line
  line="generational vs generations off: wall $(ratio "$(med "$b" "$p" spangc wall)" "$(med "$b" "$p" spangc-nogen wall)"), peak RSS $(ratio "$(med "$b" "$p" spangc rss)" "$(med "$b" "$p" spangc-nogen rss)")"
  [ "${3:-}" = pause ] && line="$line, worst push $(ratio "$(med "$b" "$p" spangc worst_ms)" "$(med "$b" "$p" spangc-nogen worst_ms)")"
  mdsay "$line"
}
# conc_note BENCH PARAMS [pause]: spangc with concurrent marking against
# the default (stop-the-world marking), medians; issue #14's targets
conc_note() {
  local b=$1 p=$2
  if ! exists "$b-spangc-conc"; then
    mdsay "concurrent vs stop-the-world marking: n/a (spangc variant not built)"; return
  fi
  local q line
  q=$(quot "$(med "$b" "$p" spangc-conc wall)" "$(med "$b" "$p" spangc wall)")
  line="concurrent (SPANGC_CONCURRENT=1) vs stop-the-world marking: wall ${q}x"
  [ "${3:-}" = pause ] || line="$line **$(mark "$q" 1.1)** (target <= 1.1x)"
  line="$line, peak RSS $(ratio "$(med "$b" "$p" spangc-conc rss)" "$(med "$b" "$p" spangc rss)")"
  if [ "${3:-}" = pause ]; then
    local wo t=2; [ "${p#s=}" = 0 ] && t=1
    wo=$(med "$b" "$p" spangc-conc worst_ms)
    line="$line, worst push $(fmt "$wo" %.2f) ms vs $(fmt "$(med "$b" "$p" spangc worst_ms)" %.2f) ms **$(mark "$wo" $t)** (target <= $t ms at 200 MB live)"
  fi
  mdsay "$line"
}
quick_note() { [ "$MODE" = quick ] && echo " (quick sizes; the targets are defined at the full sizes)"; }

part_binarytrees() {
  hr "binary-trees depth $BT_DEPTH, $REPS reps"
  local vs="" v r
  for v in spangc spangc-nogen spangc-conc bdwgc-api-on-spangc bdwgc bdwgcm malloc mimalloc go; do exists binarytrees-$v && vs="$vs $v"; done
  [ "${HAVE[collector]}" = 1 ] || say "spangc: collector not available yet (issue 4), peer variants skipped"
  for r in $(seq 1 "$REPS"); do
    for v in $vs; do run_one binarytrees "d=$BT_DEPTH" "$v" "$r" "$OUT/bin/binarytrees-$v" "$BT_DEPTH"; done
  done
  echo
  mdsay "### binary-trees, depth $BT_DEPTH (median of $REPS)"
  mdsay ""
  peer_table binarytrees "d=$BT_DEPTH" "$vs" | table
  local n; n=$(spangc_note)
  if [ -n "$n" ]; then
    mdsay "Targets (binary-trees 21): spangc wall <= 0.3x bdwgc, peak RSS <= 0.5x bdwgc: $n"
  else
    local p="d=$BT_DEPTH" qw qwm qr
    qw=$(quot "$(med binarytrees $p spangc wall)" "$(med binarytrees $p bdwgc wall)")
    qwm=$(quot "$(med binarytrees $p spangc wall)" "$(med binarytrees $p bdwgcm wall)")
    qr=$(quot "$(med binarytrees $p spangc rss)" "$(med binarytrees $p bdwgc rss)")
    mdsay "Targets (binary-trees 21)$(quick_note): spangc wall <= 0.3x bdwgc: ${qw}x **$(mark "$qw" 0.3)** (vs bdwgc + markers: ${qwm}x **$(mark "$qwm" 0.3)**); peak RSS <= 0.5x bdwgc: ${qr}x **$(mark "$qr" 0.5)**"
  fi
  api_note binarytrees "d=$BT_DEPTH"
  nogen_note binarytrees "d=$BT_DEPTH"
  conc_note binarytrees "d=$BT_DEPTH"
  mdsay ""
}

part_gcbench() {
  hr "GCBench, $GCB_REPS reps"
  local vs="" v r
  for v in spangc spangc-nogen spangc-conc bdwgc-api-on-spangc bdwgc bdwgcm; do exists gcbench-$v && vs="$vs $v"; done
  for r in $(seq 1 "$GCB_REPS"); do
    for v in $vs; do run_one gcbench std "$v" "$r" "$OUT/bin/gcbench-$v"; done
  done
  echo
  mdsay "### GCBench (stretch 18, long-lived 16, array 500000; median of $GCB_REPS; no malloc variant: GCBench never frees)"
  mdsay ""
  peer_table gcbench std "$vs" | table
  local n; n=$(spangc_note)
  if [ -n "$n" ]; then
    mdsay "Target: spangc wall <= 0.5x bdwgc: $n"
  else
    local q qm
    q=$(quot "$(med gcbench std spangc wall)" "$(med gcbench std bdwgc wall)")
    qm=$(quot "$(med gcbench std spangc wall)" "$(med gcbench std bdwgcm wall)")
    mdsay "Target: spangc wall <= 0.5x bdwgc: ${q}x **$(mark "$q" 0.5)** (vs bdwgc + markers: ${qm}x **$(mark "$qm" 0.5)**)"
  fi
  api_note gcbench std
  nogen_note gcbench std
  conc_note gcbench std
  mdsay ""
}

part_pause() {
  local W S N sc
  read -r W S N <<<"$PAUSE_ARGS"
  local live_mb
  live_mb=$(awk -v w="$W" -v s="$S" 'BEGIN { printf "%.1f", w * s / 1048576 }')
  hr "pause: window $W x $S B ($live_mb MB live), $N pushes, scanned=1 and scanned=0, $REPS reps"
  for sc in 1 0; do
    local vs="" v r
    for v in spangc spangc-nogen spangc-conc bdwgc-api-on-spangc bdwgc bdwgcm malloc mimalloc; do exists pause-$v && vs="$vs $v"; done
    [ $sc = 0 ] && exists pause-go && vs="$vs go"
    for r in $(seq 1 "$REPS"); do
      for v in $vs; do
        PAUSE_DUMP=$OUT/data/pause-s$sc-$v.dat PAUSE_HIST=$OUT/data/pausehist-s$sc-$v.$r.dat \
          run_one pause "s=$sc" "$v" "$r" "$OUT/bin/pause-$v" $W $S $N $sc
      done
    done
    echo
    mdsay "### pause test, window $W x $S B ($live_mb MB live), $N pushes, scanned=$sc (median of $REPS)"
    mdsay ""
    peer_table pause "s=$sc" "$vs" pause | table
    if [ $sc = 1 ]; then
      mdsay "glibc malloc and mimalloc use calloc here (cleared, like GC_MALLOC) and free the evicted message. Peak RSS includes a ${N}-float latency array ($(( N * 4 / 1048576 )) MB) from the C library's malloc."
    else
      mdsay "Go's messages are pointer-free []byte: compare it with scanned=0."
    fi
    local n; n=$(spangc_note)
    if [ -n "$n" ]; then
      if [ $sc = 1 ]; then mdsay "Targets: worst push <= 0.25x bdwgc's with markers started; peak RSS <= 1.5x the live window: $n"
      else mdsay "Targets: worst push <= 1 ms; peak RSS <= 1.5x the live window: $n"; fi
    else
      local wo qr
      wo=$(med pause "s=$sc" spangc worst_ms)
      qr=$(quot "$(med pause "s=$sc" spangc rss)" "$live_mb")
      if [ $sc = 1 ]; then
        local q; q=$(quot "$wo" "$(med pause s=1 bdwgcm worst_ms)")
        mdsay "Targets$(quick_note): worst push <= 0.25x bdwgc + markers: ${q}x **$(mark "$q" 0.25)**; peak RSS <= 1.5x the live window: ${qr}x **$(mark "$qr" 1.5)**"
      else
        mdsay "Targets$(quick_note): worst push <= 1 ms: $(fmt "$wo" %.2f) ms **$(mark "$wo" 1)**; peak RSS <= 1.5x the live window: ${qr}x **$(mark "$qr" 1.5)**"
      fi
    fi
    api_note pause "s=$sc" pause
    nogen_note pause "s=$sc" pause
    conc_note pause "s=$sc" pause
    mdsay ""
    pause_latency_table "$sc"
  done
  plot_pause
  plot_pause_hist
}

# The push-latency distribution (issue #14, item 5) of the variants that
# matter for it: spangc stop-the-world and concurrent, bdwgc, malloc.
PAUSE_HIST_VARIANTS="spangc spangc-conc bdwgc malloc"
# pause_latency_table SC: p50, p99, p99.9 and worst push per variant,
# medians over the reps (each run's own percentiles, from pause.c's
# stats line: every push's latency, sorted)
pause_latency_table() {
  local sc=$1 v k vs=""
  for v in $PAUSE_HIST_VARIANTS; do exists pause-$v && vs="$vs $v"; done
  [ -n "$vs" ] || return 0
  mdsay "#### pause test, scanned=$sc: push latency distribution (median over $REPS runs of each run's percentile)"
  mdsay ""
  {
    echo "variant|p50 us|p99 us|p99.9 us|worst push ms|pushes > 1 ms"
    for v in $vs; do
      local us=()
      for k in p50_ms p99_ms p999_ms; do us+=("$(awk -v a="$(med pause "s=$sc" "$v" $k)" 'BEGIN { if (a == "NA") print "-"; else printf "%.2f", a * 1000 }')"); done
      echo "${LABEL[$v]}|${us[0]}|${us[1]}|${us[2]}|$(fmt "$(med pause "s=$sc" "$v" worst_ms)" %.2f)|$(fmt "$(med pause "s=$sc" "$v" over_1ms)" %.0f)"
    done
  } | table
  mdsay "Every one of the $N pushes is timed (clock_gettime around the allocation, the memset and the store). Histogram and exceedance curve of all $REPS runs pooled: pause-hist-scanned$sc.png."
  mdsay ""
}

# pause-hist-scanned{1,0}.png: left, the histogram of push latencies (the
# runs' PAUSE_HIST files added up, log bins of a tenth of a decade, the
# share of pushes in each, log-log); right, from the same bins (a
# twentieth of a decade), the share of pushes that took at least x (the
# exceedance curve, or complementary CDF).  The right panel is the one to
# read for pauses: p99 and p99.9 are where a curve crosses 1e-2 and 1e-3,
# the worst push is where it ends, and a rare long pause (one push in a
# million) stays visible as a step of 1e-6, where in the histogram it is a
# lone bin of count 1 beside bins of 1e5.  The left panel shows where the
# pauses cluster (a collection's stop, the concurrent mark's two short
# stops, the fast path).
plot_pause_hist() {
  [ "${HAVE[gnuplot]}" = 1 ] || return
  local sc v
  for sc in 1 0; do
    local hp=() cp=()
    for v in $PAUSE_HIST_VARIANTS; do
      ls "$OUT"/data/pausehist-s$sc-$v.*.dat >/dev/null 2>&1 || continue
      local pooled=$OUT/data/pausehist-s$sc-$v.pooled
      # k lo hi count, summed over the runs
      awk '!/^#/ { c[$1] += $4; lo[$1] = $2; hi[$1] = $3 } END { for (k in c) print k, lo[k], hi[k], c[k] }' \
        "$OUT"/data/pausehist-s$sc-$v.*.dat | sort -n >"$pooled"
      # histogram, the bins merged in pairs: the bin's geometric centre,
      # count, share; a blank line (a break in the line) between bins that
      # are not neighbours, so a lone slow bin stands as a lone point
      awk '{ t += $4; k = ($1 < 0) ? -1 : int($1 / 2); c[k] += $4 }
        END { p = -9; for (k = -1; k < 100; k++) if (k in c) { if (k != p + 1) print ""; p = k
          print (k < 0 ? 0.5e-5 : 1e-5 * 10 ^ ((k + 0.5) / 10)), c[k], c[k] / t } }' "$pooled" >"$pooled.hist"
      # exceedance: lo share_at_least_lo
      # (the last step runs to the slowest bin's upper edge)
      awk '{ lo[NR] = ($2 > 0 ? $2 : 0.5e-5); c[NR] = $4; t += $4; hi = $3 } END { s = t; for (i = 1; i <= NR; i++) { print lo[i], s / t; if (i == NR) print hi, s / t; s -= c[i] } }' \
        "$pooled" >"$pooled.ccdf"
      # short titles: the long labels would cover the curves' ends
      hp+=("'$pooled.hist' using 1:3 with linespoints lw 2 ps 0.8 title '$v'")
      cp+=("'$pooled.ccdf' using 1:2 with steps lw 2 title '$v'")
    done
    [ ${#hp[@]} -gt 0 ] || continue
    local png=$OUT/pause-hist-scanned$sc.png
    if gnuplot >"$OUT/logs/gnuplot-pausehist$sc.log" 2>&1 <<EOF
set terminal pngcairo size 1400,600 noenhanced
set output '$png'
set multiplot layout 1,2 title 'pause test: push latency, window $W x $S B, $N pushes, scanned=$sc, all $REPS runs pooled (spangc-conc: SPANGC_CONCURRENT=1; bdwgc: markers not started)'
set logscale xy
set format x '%g'
set format y '%g'
set grid
set yrange [$(awk -v n="$N" -v r="$REPS" 'BEGIN { print 0.5 / (n * r) }'):1.5]
set key top right
set xlabel 'push latency (ms; bins of a tenth of a decade, plotted at their centres)'
set ylabel 'share of pushes in the bin'
plot $(IFS=,; echo "${hp[*]}")
set xlabel 'push latency x (ms)'
set ylabel 'share of pushes that took x or longer'
set key bottom left reverse Left
plot $(IFS=,; echo "${cp[*]}")
unset multiplot
EOF
    then say "plot: $png"; else say "gnuplot failed (see $OUT/logs/gnuplot-pausehist$sc.log)"; fi
  done
}

# One PNG of lines: line_plot NAME PNG SIZE TITLE XLABEL YLABEL SETTINGS
# PLOT...  draws the plot elements (gnuplot "plot" clauses, joined with
# commas) with the settings (gnuplot lines) after the common ones; the log
# is $OUT/logs/gnuplot-NAME.log.  Says where the plot went, or that
# gnuplot failed.
line_plot() {
  local name=$1 png=$2 size=$3 title=$4 xlabel=$5 ylabel=$6 settings=$7
  shift 7
  local joined; joined=$(IFS=,; echo "$*")
  if gnuplot >"$OUT/logs/gnuplot-$name.log" 2>&1 <<EOF
set terminal pngcairo size $size noenhanced
set output '$png'
set title '$title'
set xlabel '$xlabel'
set ylabel '$ylabel'
set grid
set key top right
$settings
plot $joined
EOF
  then say "plot: $png"; else say "gnuplot failed (see $OUT/logs/gnuplot-$name.log)"; fi
}

plot_pause() {
  [ "${HAVE[gnuplot]}" = 1 ] || return
  local sc
  for sc in 1 0; do
    local plots=() f v
    for f in "$OUT"/data/pause-s$sc-*.dat; do
      [ -e "$f" ] || continue
      v=$(basename "$f" .dat); v=${v#pause-s$sc-}
      plots+=("'$f' using 2:1 with lines lw 2 title '${LABEL[$v]}'")
    done
    [ ${#plots[@]} -gt 0 ] || continue
    line_plot "pause$sc" "$OUT/pause-latency-scanned$sc.png" 1000,650 \
      "pause test: push latency distribution (last rep): window $W x $S B, $N pushes, scanned=$sc" \
      'push latency x (ms)' 'fraction of pushes slower than x' \
      "set logscale xy
set format x '%g'
set format y '%g'" "${plots[@]}"
  done
}

# ---------------------------------------------------------------- pause1g
# The pause test at 1 GB live (issue #14, item 5): 1000000 messages of
# 1 KiB, 3M pushes, spangc stop-the-world and concurrent and bdwgc,
# alternating, PAUSE1G_REPS runs (3: each run marks a gigabyte several
# times).  BENCH=full only (PAUSE1G=1 runs it at any BENCH); skipped with a
# line when the machine has too little memory available.
PAUSE1G_ARGS="1000000 1024 3000000"
part_pause1g() {
  local W S N reps=${PAUSE1G_REPS:-3}
  read -r W S N <<<"$PAUSE1G_ARGS"
  local live_mb
  live_mb=$(awk -v w="$W" -v s="$S" 'BEGIN { printf "%.1f", w * (s + 8) / 1048576 }')
  hr "pause1g: window $W x $S B ($live_mb MB live), $N pushes, scanned=1, $reps reps"
  mdsay "### pause test at 1 GB live: window $W x $S B ($live_mb MB live), $N pushes, scanned=1 (median of $reps)"
  mdsay ""
  if [ "$MODE" != full ] && [ "${PAUSE1G:-0}" != 1 ]; then
    mdsay "skipped: BENCH=$MODE; the 1 GB-live pause run is part of BENCH=full only (PAUSE1G=1 runs it at any size)"
    mdsay ""; return
  fi
  # a collector's heap at 1 GB live: about 2x live for spangc and bdwgc,
  # and two of them never run at once; ask for 4x live to be available
  local avail_mb need_mb
  avail_mb=$(awk '/^MemAvailable/ { printf "%d", $2 / 1024 }' /proc/meminfo)
  need_mb=$(awk -v l="$live_mb" 'BEGIN { printf "%d", 4 * l }')
  if [ "${avail_mb:-0}" -lt "$need_mb" ]; then
    mdsay "skipped: $avail_mb MB available, the run wants $need_mb MB (4x the live window)"
    mdsay ""; return
  fi
  local vs="" v r
  for v in spangc spangc-conc bdwgc; do exists pause-$v && vs="$vs $v"; done
  if [ -z "$vs" ]; then mdsay "skipped: no variant built"; mdsay ""; return; fi
  for r in $(seq 1 "$reps"); do
    for v in $vs; do
      PAUSE_HIST=$OUT/data/pause1g-$v.$r.dat run_one pause1g "s=1" "$v" "$r" "$OUT/bin/pause-$v" $W $S $N 1
    done
  done
  echo
  {
    echo "variant|wall s|CPU s|worst push ms|p99.9 us|p99 us|pushes > 1 ms|peak RSS MB|RSS / live|worst vs bdwgc"
    local bwo; bwo=$(med pause1g s=1 bdwgc worst_ms)
    for v in $vs; do
      local wo rs us=() k
      wo=$(med pause1g s=1 "$v" worst_ms); rs=$(med pause1g s=1 "$v" rss)
      for k in p999_ms p99_ms; do us+=("$(awk -v a="$(med pause1g s=1 "$v" $k)" 'BEGIN { if (a == "NA") print "-"; else printf "%.2f", a * 1000 }')"); done
      echo "${LABEL[$v]}|$(fmt "$(med pause1g s=1 "$v" wall)" %.1f)|$(fmt "$(med pause1g s=1 "$v" cpu)" %.1f)|$(fmt "$wo" %.2f)|${us[0]}|${us[1]}|$(fmt "$(med pause1g s=1 "$v" over_1ms)" %.0f)|$(fmt "$rs" %.0f)|$(ratio "$rs" "$live_mb")|$(ratio "$wo" "$bwo")"
    done
  } | table
  local wo; wo=$(med pause1g s=1 spangc-conc worst_ms)
  if exists pause-spangc-conc; then
    mdsay "Target (issue #14): spangc-conc worst push <= 5 ms at 1 GB live: $(fmt "$wo" %.2f) ms **$(mark "$wo" 5)**"
  else
    mdsay "Target (issue #14): spangc-conc worst push <= 5 ms at 1 GB live: n/a (spangc not built)"
  fi
  mdsay "Live: the window, $W x ($S B + an 8-byte slot); peak RSS also holds the $N-float latency array ($(( N * 4 / 1048576 )) MB, the C library's malloc). Worst push and peak RSS are medians over $reps runs."
  mdsay ""
}

part_scaling() {
  hr "scaling: binary-trees depths $SCALE_DEPTHS, $SCALE_REPS rep(s)"
  mdsay "### scaling: binary-trees depths $SCALE_DEPTHS (median of $SCALE_REPS)"
  mdsay ""
  if [ "${HAVE[collector]}" != 1 ] || ! exists binarytrees-spangc; then
    mdsay "skipped: $(spangc_note | sed "s/^n\\/a (//; s/)\$//")"
    mdsay ""
    return
  fi
  local vs="spangc-m1 spangc-m2" v r d
  exists binarytrees-bdwgc && vs="$vs bdwgc"
  exists binarytrees-bdwgcm && vs="$vs bdwgcm"
  for r in $(seq 1 "$SCALE_REPS"); do
    for d in $SCALE_DEPTHS; do
      for v in $vs; do
        case $v in
        spangc-m1) run_one scaling "d=$d" "$v" "$r" env SPANGC_MARKERS=1 "$OUT/bin/binarytrees-spangc" "$d" ;;
        spangc-m2) run_one scaling "d=$d" "$v" "$r" env SPANGC_MARKERS=2 "$OUT/bin/binarytrees-spangc" "$d" ;;
        *) run_one scaling "d=$d" "$v" "$r" "$OUT/bin/binarytrees-$v" "$d" ;;
        esac
      done
    done
  done
  echo
  local dat=$OUT/data/scaling.dat
  {
    printf '# depth'; for v in $vs; do printf ' %s_wall %s_rssMB' "$v" "$v"; done; echo
    for d in $SCALE_DEPTHS; do
      printf '%s' "$d"
      for v in $vs; do printf ' %s %s' "$(med scaling "d=$d" "$v" wall)" "$(med scaling "d=$d" "$v" rss)"; done
      echo
    done
  } >"$dat"
  {
    local h="depth"; for v in $vs; do h="$h|${LABEL[$v]} wall s|RSS MB"; done; echo "$h"
    for d in $SCALE_DEPTHS; do
      local row="$d"
      for v in $vs; do row="$row|$(fmt "$(med scaling "d=$d" "$v" wall)" %.2f)|$(fmt "$(med scaling "d=$d" "$v" rss)" %.0f)"; done
      echo "$row"
    done
  } | table
  # Parallel mark: the mark phase's own time (from gctrace) at the largest
  # depth, 1 marker against 2, and the whole run's wall time.
  local dmax=${SCALE_DEPTHS##* } m mk1 mk2 w1 w2 speed
  for m in 1 2; do
    env SPANGC_MARKERS=$m SPANGC_GENERATIONAL=0 SPANGC_DEBUG=gctrace=1 "$OUT/bin/binarytrees-spangc" "$dmax" \
      >/dev/null 2>"$OUT/logs/gctrace-m$m.log" || fail "gctrace run with $m markers failed"
  done
  mark_sum() { awk 'match($0, /[0-9.]+\+[0-9.]+\+[0-9.]+\+[0-9.]+ ms/) { split(substr($0, RSTART, RLENGTH - 3), a, "+"); s += a[3] } END { printf "%.3f", s / 1000 }' "$1"; }
  mk1=$(mark_sum "$OUT/logs/gctrace-m1.log"); mk2=$(mark_sum "$OUT/logs/gctrace-m2.log")
  w1=$(med scaling "d=$dmax" spangc-m1 wall); w2=$(med scaling "d=$dmax" spangc-m2 wall)
  speed=$(awk -v a="$mk1" -v b="$mk2" 'BEGIN { if (b + 0 == 0) print "NA"; else printf "%.2f", a / b }')
  mdsay "Parallel mark (issue 5), depth $dmax: mark time ${mk1} s with 1 marker, ${mk2} s with 2: ${speed}x (target >= 1.8x: **$(awk -v s="$speed" 'BEGIN { if (s == "NA") print "n/a"; else if (s + 0 >= 1.8) print "met"; else print "NOT met" }')**); whole run $(ratio "$w1" "$w2") faster."
  mdsay ""
  [ "${HAVE[gnuplot]}" = 1 ] || return
  local png=$OUT/scaling.png i=0 pw=() pr=()
  for v in $vs; do
    pw+=("'$dat' using 1:$((2 + 2 * i)) with linespoints lw 2 title '${LABEL[$v]}'")
    pr+=("'$dat' using 1:$((3 + 2 * i)) with linespoints lw 2 title '${LABEL[$v]}'")
    i=$((i + 1))
  done
  if gnuplot >"$OUT/logs/gnuplot-scaling.log" 2>&1 <<EOF
set terminal pngcairo size 1300,550 noenhanced
set output '$png'
set multiplot layout 1,2 title 'binary-trees scaling (median of $SCALE_REPS)'
set logscale y
set grid
set key bottom right
set xtics 1
set xlabel 'depth'
set ylabel 'wall time (s)'
plot $(IFS=,; echo "${pw[*]}")
set ylabel 'peak RSS (MB)'
plot $(IFS=,; echo "${pr[*]}")
unset multiplot
EOF
  then say "plot: $png"; else say "gnuplot failed (see $OUT/logs/gnuplot-scaling.log)"; fi
  mdsay "Plot: scaling.png"
  mdsay ""
}

# ---------------------------------------------------------------- gen
# bench/gen.c (issue 13): a long-lived structure and a stream of
# short-lived garbage.  Three tables: generational spangc against the same
# binary with generations off and against bdwgc; the collections' pauses
# from gctrace runs (gen.c, and binary-trees at BT_DEPTH); the cost of the
# dirty-page tracking (gen.c writeall: every page of the structure written
# between two collections) against SPANGC_DIRTY=off.
# gctrace_run NAME REF_SLUG COMMAND...: one run under SPANGC_DEBUG=gctrace=1
# (through measure, for its watchdog), its stderr in logs/gctrace-NAME.log;
# its check lines must equal the timed runs' (checks/REF_SLUG.ref).
gctrace_run() {
  local name=$1 slug=$2; shift 2
  local log=$OUT/logs/gctrace-$name st=0
  rm -f "$log.measure"
  "$OUT/measure" -o "$log.measure" -m "$SPANGC_RSS_LIMIT_MB" -t "$RUN_TIMEOUT_S" -- \
    env SPANGC_DEBUG=gctrace=1 "$@" >"$log.out" 2>"$log.log" || st=$?
  if [ $st != 0 ]; then
    fail "gctrace run $name: exit status $st; $(grep -v '^gc \|^heap ' "$log.log" | tail -n 3 | tr '\n' ' ')"
    return 1
  fi
  local ref=$OUT/checks/$slug.ref
  if [ -e "$ref" ] && ! grep 'check:' "$log.out" | cmp -s "$ref" -; then
    fail "CHECK MISMATCH in gctrace run $name: differs from $(cat "$ref.who")"
  fi
  return 0
}
# pause_dist LOG KIND [after]: "count median max" of the pauses (stop +
# prepare + mark + term, ms) of KIND (minor/major) collections in a gctrace
# log; with "after", only those after gen.c's "gen: structure built"
pause_dist() {
  awk -v kind="$2" -v from="${3:-all}" '
    /^gen: structure built/ { on = 1; next }
    from == "after" && !on { next }
    $1 == "gc" && $4 == kind "," && match($0, /markers: [0-9.]+\+[0-9.]+\+[0-9.]+\+[0-9.]+ ms/) {
      s = substr($0, RSTART + 9, RLENGTH - 12); split(s, a, "+"); print a[1] + a[2] + a[3] + a[4] }' "$1" |
    sort -g | awk '{ v[NR] = $1 } END {
      if (NR == 0) { print "0 NA NA"; exit }
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%d %s %s\n", NR, m, v[NR] }'
}
# stop_sweeps LOG: "total max" of the spans swept inside stops (gctrace's
# "N spans swept in the stop"; proportional sweeping keeps it at 0)
stop_sweeps() {
  awk 'match($0, /[0-9]+ spans swept in the stop/) {
      n = substr($0, RSTART, RLENGTH) + 0; t += n; if (n > m) m = n }
    END { printf "%d %d\n", t, m }' "$1"
}
part_gen() {
  local SM GM
  read -r SM GM <<<"$GEN_ARGS"
  hr "gen: $SM MB long-lived structure, $GM MB of short-lived garbage (mixed and writeall), $GEN_REPS reps"
  if ! exists gen-spangc; then
    local n; n=$(spangc_note | sed 's/^n\/a (//; s/)$//')
    [ -n "$n" ] || n="gen-spangc did not build, see $OUT/logs/build-gen-spangc.log"
    mdsay "### gen.c, generational collection: n/a ($n)"; mdsay ""; return
  fi
  local vs="" wvs="" v r
  for v in spangc spangc-nogen bdwgc; do exists gen-$v && vs="$vs $v"; done
  for v in spangc spangc-nodirty; do exists gen-$v && wvs="$wvs $v"; done
  for r in $(seq 1 "$GEN_REPS"); do
    for v in $vs; do run_one gen mixed "$v" "$r" "$OUT/bin/gen-$v" "$SM" "$GM" mixed; done
    for v in $wvs; do run_one gen writeall "$v" "$r" "$OUT/bin/gen-$v" "$SM" "$GM" writeall; done
  done
  echo
  gcs() { # bench params variant -> "collections|minor/major"
    local g mi ma
    g=$(med gen "$1" "$2" gcs); mi=$(med gen "$1" "$2" minors); ma=$(med gen "$1" "$2" majors)
    echo "$(fmt "$g" %.0f)|$( [ "$mi" = NA ] && echo - || echo "$(fmt "$mi" %.0f)/$(fmt "$ma" %.0f)")"
  }
  mdsay "### gen.c, generational collection: $SM MB long-lived structure, $GM MB of short-lived garbage (median of $GEN_REPS)"
  mdsay ""
  local bw br nw nr
  bw=$(med gen mixed bdwgc wall); br=$(med gen mixed bdwgc rss)
  nw=$(med gen mixed spangc-nogen wall); nr=$(med gen mixed spangc-nogen rss)
  {
    echo "variant|wall s|CPU s|peak RSS MB|collections|minor/major|wall vs bdwgc|wall vs gen. off|RSS vs bdwgc|RSS vs gen. off"
    for v in $vs; do
      local w c rs
      w=$(med gen mixed "$v" wall); c=$(med gen mixed "$v" cpu); rs=$(med gen mixed "$v" rss)
      echo "${LABEL[$v]}|$(fmt "$w" %.2f)|$(fmt "$c" %.2f)|$(fmt "$rs" %.0f)|$(gcs mixed "$v")|$(ratio "$w" "$bw")|$(ratio "$w" "$nw")|$(ratio "$rs" "$br")|$(ratio "$rs" "$nr")"
    done
  } | table
  mdsay "Nodes of 32 B (one allocation each, each pointing at another at random) held by one pointer array; then per MB of garbage: lists of 32 cells (half with a 32 B pointer-free payload) built, summed and dropped, and about 1 node in 65536 rewritten to point at a new 4-cell list."
  nogen_note gen mixed
  mdsay "generational vs bdwgc: wall $(ratio "$(med gen mixed spangc wall)" "$bw"), peak RSS $(ratio "$(med gen mixed spangc rss)" "$br")"
  mdsay ""

  # pauses, from one gctrace run each
  local rows=() d
  if gctrace_run gen gen_mixed "$OUT/bin/gen-spangc" "$SM" "$GM" mixed; then
    rows+=("gen.c, generational|$OUT/logs/gctrace-gen.log|all")
    rows+=("gen.c, generational, after the build|$OUT/logs/gctrace-gen.log|after")
  fi
  if exists gen-spangc-nogen && gctrace_run gen-nogen gen_mixed "$OUT/bin/gen-spangc-nogen" "$SM" "$GM" mixed; then
    rows+=("gen.c, generations off|$OUT/logs/gctrace-gen-nogen.log|all")
  fi
  if exists binarytrees-spangc; then
    d="d=$BT_DEPTH"
    gctrace_run bt binarytrees_$d "$OUT/bin/binarytrees-spangc" "$BT_DEPTH" &&
      rows+=("binary-trees $BT_DEPTH, generational|$OUT/logs/gctrace-bt.log|all")
    exists binarytrees-spangc-nogen && gctrace_run bt-nogen binarytrees_$d "$OUT/bin/binarytrees-spangc-nogen" "$BT_DEPTH" &&
      rows+=("binary-trees $BT_DEPTH, generations off|$OUT/logs/gctrace-bt-nogen.log|all")
  fi
  mdsay "### spangc collection pauses (stop + prepare + mark + term, ms; one SPANGC_DEBUG=gctrace=1 run each)"
  mdsay ""
  {
    echo "program|minor collections|minor median ms|minor max ms|major collections|major median ms|major max ms|spans swept in stops (total, most in one)"
    local row name log from mi ma sw
    for row in "${rows[@]}"; do
      IFS='|' read -r name log from <<<"$row"
      read -r -a mi <<<"$(pause_dist "$log" minor "$from")"
      read -r -a ma <<<"$(pause_dist "$log" major "$from")"
      read -r -a sw <<<"$(stop_sweeps "$log")"
      echo "$name|${mi[0]}|$(fmt "${mi[1]}" %.2f)|$(fmt "${mi[2]}" %.2f)|${ma[0]}|$(fmt "${ma[1]}" %.2f)|$(fmt "${ma[2]}" %.2f)|${sw[0]}, ${sw[1]}"
    done
  } | table
  mdsay "gen.c at the sizes above ($SM MB, $GM MB). \"After the build\": the collections of the garbage stream only (minors during the build mark a structure that is still young). Logs: logs/gctrace-*.log."
  mdsay ""

  # cost of tracking
  mdsay "### gen.c writeall, the cost of dirty-page tracking: every page of the structure written between two collections (median of $GEN_REPS)"
  mdsay ""
  local ow
  ow=$(med gen writeall spangc-nodirty wall)
  {
    echo "variant|wall s|CPU s|peak RSS MB|collections|minor/major|wall vs tracking off"
    for v in $wvs; do
      local w
      w=$(med gen writeall "$v" wall)
      echo "${LABEL[$v]}|$(fmt "$w" %.2f)|$(fmt "$(med gen writeall "$v" cpu)" %.2f)|$(fmt "$(med gen writeall "$v" rss)" %.0f)|$(gcs writeall "$v")|$(ratio "$w" "$ow")"
    done
  } | table
  mdsay "As gen.c above, plus, every 8 MB of garbage, a store into every 2 KiB of the nodes and every page of the pointer array. With SPANGC_DIRTY=off every collection is major; with tracking, minors rescan every written page."
  local q; q=$(quot "$(med gen writeall spangc wall)" "$ow")
  mdsay "tracking cost: ${q}x wall (target <= 1.05x): **$(mark "$q" 1.05)**"
  mdsay ""
}

# ---------------------------------------------------------------- soak
# The soak workload (bench/peers/soak.c: tests/stress.c --soak reduced to
# what any collector's API offers): RSS over time, one run per variant,
# with its mean and slope after the first 20% (issue #21).
part_soak() {
  hr "soak: $SOAK_THREADS threads, $SOAK_SECONDS s per variant, RSS sampled every 0.25 s"
  local vs="" v
  for v in spangc bdwgc-api-on-spangc bdwgc; do exists soak-$v && vs="$vs $v"; done
  if [ -z "$vs" ]; then mdsay "### soak: n/a (no variant built)"; mdsay ""; return; fi
  for v in $vs; do
    SOAK_DUMP=$OUT/data/soak-$v.dat run_one soak "s=$SOAK_SECONDS" "$v" 1 "$OUT/bin/soak-$v" "$SOAK_SECONDS" "$SOAK_THREADS"
  done
  echo
  mdsay "### soak: RSS over time, $SOAK_THREADS threads, $SOAK_SECONDS s (one run each)"
  mdsay ""
  {
    echo "variant|mean RSS MB after 20%|RSS slope MB/min after 20%|slope, % of mean per min|peak RSS MB"
    for v in $vs; do
      local m sl
      m=$(med soak "s=$SOAK_SECONDS" "$v" rss_mean_mb); sl=$(med soak "s=$SOAK_SECONDS" "$v" rss_slope_mb_min)
      echo "${LABEL[$v]}|$(fmt "$m" %.1f)|$(fmt "$sl" %+.2f)|$(awk -v a="$sl" -v b="$m" 'BEGIN { if (a == "NA" || b == "NA" || b + 0 == 0) print "-"; else printf "%+.1f%%", 100 * a / b }')|$(fmt "$(med soak "s=$SOAK_SECONDS" "$v" rss_peak_mb)" %.1f)"
    done
  } | table
  mdsay "The same program (bench/peers/soak.c) through each collector's API. A run this short shows the level and the warm-up more than a trend; make soak is the 10-minute check of spangc."
  mdsay ""
  [ "${HAVE[gnuplot]}" = 1 ] || return
  local plots=() f png=$OUT/soak-rss.png
  for v in $vs; do
    f=$OUT/data/soak-$v.dat
    [ -s "$f" ] && plots+=("'$f' using 1:2 with lines lw 2 title '${LABEL[$v]}'")
  done
  [ ${#plots[@]} -gt 0 ] || return
  if gnuplot >"$OUT/logs/gnuplot-soak.log" 2>&1 <<EOF
set terminal pngcairo size 1000,550 noenhanced
set output '$png'
set title 'soak workload: RSS over time ($SOAK_THREADS threads, random trees of 16 B - 3.3 MiB objects)'
set xlabel 'time (s)'
set ylabel 'RSS (MB)'
set yrange [0:*]
set grid
set key bottom right
plot $(IFS=,; echo "${plots[*]}")
EOF
  then say "plot: $png"; mdsay "Plot: soak-rss.png"; mdsay ""; else say "gnuplot failed (see $OUT/logs/gnuplot-soak.log)"; fi
}

# ---------------------------------------------------------------- summary
summary() {
  local cpu mem
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
  mem=$(awk '/^MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo)
  local ver_gc ver_mi ver_go ver_sgc commit
  ver_gc=$(dpkg-query -W -f '${Version}' libgc-dev 2>/dev/null || echo "-")
  ver_mi=$(dpkg-query -W -f '${Version}' libmimalloc-dev 2>/dev/null || echo "-")
  ver_go=$(go version 2>/dev/null | awk '{print $3}' || true)
  ver_sgc=$([ "${HAVE[spangc]}" = 1 ] && pkg-config --modversion spangc || echo "not built")
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "no commit yet")
  git -C "$ROOT" diff --quiet HEAD -- src include 2>/dev/null || commit="$commit (+ uncommitted changes)"
  {
    echo "machine|$(nproc) CPUs, $cpu, $mem RAM, Linux $(uname -r)"
    echo "date|$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "mode|BENCH=$MODE, $REPS reps (variants alternate; medians)"
    echo "compiler|$($CC --version | head -n1), $CFLAGS"
    echo "glibc|$(ldd --version 2>/dev/null | head -n1 | awk '{print $NF}')"
    echo "bdwgc (libgc-dev)|$ver_gc"
    echo "mimalloc (libmimalloc-dev)|$ver_mi"
    echo "Go|${ver_go:--}"
    echo "spangc|$ver_sgc, $commit, collector: $COLLECTOR_STATE"
    echo "libgc.so.1 loaded|bdwgc variants: $LIBGC_STOCK; bdwgc API on spangc: $LIBGC_OURS"
  } >"$OUT/data/summary.txt"
}

# Every collector table must show spangc's own row with figures: a run
# that silently skipped spangc (it once did, on a fresh clone) fails.
check_spangc_rows() {
  local want_parts="" p
  for p in binarytrees gcbench pause scaling gen; do want "$p" && want_parts="$want_parts $p"; done
  [ -n "$want_parts" ] || return 0
  local problems
  problems=$(awk -v parts="$want_parts" '
    function close_table() {
      if (intab == 1 && !have) print "no spangc row with figures in \"" sec "\""
      if (intab == 2 && (bad || rows == 0)) print "no spangc figures in \"" sec "\""
      intab = 0
    }
    function num(x) { gsub(/ /, "", x); return x ~ /^[0-9]+(\.[0-9]+)?$/ }
    /^### / { close_table(); sec = $0
      if (sec ~ /^### binary-trees/) seen["binarytrees"] = 1
      if (sec ~ /^### GCBench/) seen["gcbench"] = 1
      if (sec ~ /^### pause test/) seen["pause"] = 1
      if (sec ~ /^### scaling/) seen["scaling"] = 1
      if (sec ~ /^### gen\.c/) seen["gen"] = 1
      if (sec ~ /^### gen\.c.*: n\/a/) print "gen.c skipped: " sec
      next }
    /^\| variant / && sec ~ /^### (binary-trees|GCBench|pause test|gen\.c)/ { intab = 1; have = 0; next }
    /^\| depth / && sec ~ /scaling/ { intab = 2; bad = 0; rows = 0; next }
    intab && /^\|-/ { next }
    intab == 1 && /^\| / { split($0, f, "|"); lab = f[2]; gsub(/^ +| +$/, "", lab)
      if (lab == "spangc" && num(f[3])) have = 1; next }
    intab == 2 && /^\| / { split($0, f, "|"); rows++; if (!num(f[3])) bad = 1; next }
    intab { close_table() }
    /^skipped:/ && sec ~ /scaling/ { print "scaling skipped: " $0 }
    END { close_table(); n = split(parts, ps, " ")
      for (i = 1; i <= n; i++) if (!(ps[i] in seen)) print "no " ps[i] " table" }' "$MD")
  if [ -n "$problems" ]; then
    while IFS= read -r p; do fail "spangc missing from the results: $p"; done <<<"$problems"
  else
    say "every collector table has spangc's row with figures"
  fi
}

# ---------------------------------------------------------------- memlimit
# The soft memory limit (issue 15): gen.c mixed at GEN_ARGS, spangc without
# a limit and with SPANGC_MEMLIMIT at 1.5x the structure's MB
# (gen-spangc-memlimit, a script setting it): peak RSS against the limit,
# and what it costs in wall time and collections.
part_memlimit() {
  local SM GM LIM
  read -r SM GM <<<"$GEN_ARGS"
  LIM=$((SM * 3 / 2))
  hr "memlimit: gen.c mixed ($SM MB structure, $GM MB garbage) under SPANGC_MEMLIMIT=${LIM}MiB, $GEN_REPS reps"
  if ! exists gen-spangc-memlimit; then
    mdsay "### Soft memory limit: n/a (gen-spangc not built)"; mdsay ""; return
  fi
  local r v
  for r in $(seq 1 "$GEN_REPS"); do
    for v in spangc spangc-memlimit; do run_one gen mixed "$v" "$r" "$OUT/bin/gen-$v" "$SM" "$GM" mixed; done
  done
  mdsay "### Soft memory limit: gen.c mixed, $SM MB structure, $GM MB garbage, SPANGC_MEMLIMIT=${LIM}MiB (median of $GEN_REPS)"
  mdsay ""
  {
    echo "variant|limit MiB|wall s|CPU s|peak RSS MiB|peak RSS / limit|collections"
    for v in spangc spangc-memlimit; do
      local w c rs lim="-" rl="-"
      w=$(med gen mixed "$v" wall); c=$(med gen mixed "$v" cpu); rs=$(med gen mixed "$v" rss)
      if [ "$v" = spangc-memlimit ]; then lim=$LIM; rl=$(ratio "$rs" "$LIM"); fi
      echo "$v|$lim|$(fmt "$w" %.2f)|$(fmt "$c" %.2f)|$(fmt "$rs" %.0f)|$rl|$(med gen mixed "$v" gcs)"
    done
  } | table
  mdsay ""
  mdsay "peak RSS under the limit: $(ratio "$(med gen mixed spangc-memlimit rss)" "$(med gen mixed spangc rss)") of the unlimited run's; wall $(ratio "$(med gen mixed spangc-memlimit wall)" "$(med gen mixed spangc wall)")"
  mdsay ""
}

# ---------------------------------------------------------------- shrink
# shrink.c: LIVE MB live, then nine tenths dropped while ~20 MB/s of
# garbage is allocated; RSS sampled every 50 ms, plotted over time.
part_shrink() {
  local LIVE SECS
  read -r LIVE SECS <<<"$SHRINK_ARGS"
  hr "shrink: $LIVE MB live dropped to a tenth, $SECS s of ~20 MB/s allocation after, $REPS reps"
  local vs="" v r
  for v in spangc bdwgc; do exists shrink-$v && vs="$vs $v"; done
  if [ -z "$vs" ]; then mdsay "### Shrink: n/a (nothing built)"; mdsay ""; return; fi
  for r in $(seq 1 "$REPS"); do
    for v in $vs; do
      run_one shrink "$LIVE" "$v" "$r" "$OUT/bin/shrink-$v" "$LIVE" "$SECS"
      grep -E '^[0-9]+ ' "$OUT/logs/shrink_$LIVE.$v.$r.out" >"$OUT/data/shrink-$v.dat" 2>/dev/null
    done
  done
  local lim=$((LIVE * 250 / 1024)) # as shrink.c computes it
  [ "$lim" -ge $((LIVE / 10 + 40)) ] || lim=$((LIVE / 10 + 40))
  mdsay "### Shrink: $LIVE MB live dropped to a tenth, then ~20 MB/s of garbage for $SECS s (median of $REPS)"
  mdsay ""
  {
    echo "variant|RSS before the drop MB|RSS at the end MB|RSS under $lim MB after s|peak RSS MB"
    for v in $vs; do
      local u; u=$(med shrink "$LIVE" "$v" under_s)
      case $u in -1 | -1.00) u="never" ;; esac
      echo "$v|$(fmt "$(med shrink "$LIVE" "$v" rss_before_mb)" %.0f)|$(fmt "$(med shrink "$LIVE" "$v" rss_end_mb)" %.0f)|$u|$(fmt "$(med shrink "$LIVE" "$v" rss)" %.0f)"
    done
  } | table
  local u ok="NOT met"; u=$(med shrink "$LIVE" spangc under_s)
  awk -v u="$u" 'BEGIN { exit !(u != "NA" && u >= 0 && u <= 2) }' && ok=met
  mdsay "Target (issue 15, at 1024 MB): RSS under 250 MB within 2 s of the drop: $( [ "$u" = NA ] && echo n/a || echo "${u} s") **$ok**$( [ "$LIVE" = 1024 ] || echo " (at $LIVE MB the bound is $lim MB)")"
  mdsay ""
  [ "${HAVE[gnuplot]}" = 1 ] || return
  local plots=() f
  for v in $vs; do
    f=$OUT/data/shrink-$v.dat
    [ -s "$f" ] || continue
    plots+=("'$f' using (\$1/1000):2 with lines lw 2 title '${LABEL[$v]} RSS'")
    plots+=("'$f' using (\$1/1000):3 with lines dt 2 title '${LABEL[$v]} live (last collection)'")
  done
  [ ${#plots[@]} -gt 0 ] || return
  line_plot shrink "$OUT/shrink-rss.png" 1000,600 \
    "shrink: $LIVE MB live dropped to a tenth at t=0, ~20 MB/s allocated after (last rep)" \
    'seconds after the drop' MB 'set yrange [0:*]' \
    "${plots[@]}" "$lim with lines lc rgb 'gray' title 'target bound'"
}

# ---------------------------------------------------------------- programs
# Real programs (issue 12, item 3): Debian's Guile 3.0 and ECL, which link
# libgc.so.1 dynamically, running bench/programs/*.scm and *.lsp (binary
# trees, lists and pairs, hash tables and strings, a vector holding a large
# live set), compiled ahead so no compiler runs while timed: Guile's
# compile-file to .go (timed: guile -c '(load-compiled "x.go")'), ECL's
# compile-file to a native .fas (Lisp to C to gcc; timed: ecl --norc --load
# x.fas).  Variant stock runs with LD_LIBRARY_PATH unset (Debian's
# libgc.so.1), variant ours with LD_LIBRARY_PATH=$GCC_LIBDIR (our
# libgc.so.1); they alternate each rep, and so does which of them runs
# first.  Target: every wall ratio (ours / stock, the median of each
# rep's pair) <= 1.00 and every peak-RSS ratio (of the medians) <= 1.10.
PROG_NAMES="binarytrees lists hashstrings vectors"
declare -A PROG_LANG_LABEL=([guile]="Guile" [ecl]="ECL")
declare -A PROG_EXT=([guile]=scm [ecl]=lsp)
# prog_cmd LANG NAME: sets PROG_CMD to the command that runs the compiled program
PROG_CMD=()
prog_cmd() {
  local d=$OUT/programs/$1
  case $1 in
  guile) PROG_CMD=(guile --no-auto-compile -c "(load-compiled \"$d/$2.go\")") ;;
  ecl) PROG_CMD=(ecl --norc --load "$d/$2.fas" --eval "(ext:quit 0)") ;;
  esac
}
# prog_compile LANG NAME: compile bench/programs/NAME.EXT into $OUT/programs/LANG
# (on Debian's libgc.so.1; the output does not depend on the collector)
prog_compile() {
  local lang=$1 n=$2 d=$OUT/programs/$1 src=$HERE/programs/$2.${PROG_EXT[$1]} log=$OUT/logs/compile-$1-$2.log
  case $lang in
  guile)
    env -u LD_LIBRARY_PATH guile --no-auto-compile -c \
      "(use-modules (system base compile)) (compile-file \"$src\" #:output-file \"$d/$n.go\")" >"$log" 2>&1 &&
      [ -s "$d/$n.go" ] ;;
  ecl)
    env -u LD_LIBRARY_PATH ecl --norc \
      --eval "(progn (unless (compile-file \"$src\" :output-file \"$d/$n.fas\") (ext:quit 1)) (ext:quit 0))" \
      >"$log" 2>&1 && [ -s "$d/$n.fas" ] ;;
  esac
}
# prog_libgc LANG VARIANT: the libgc.so.1 files the interpreter really maps
# when run as run_one runs it (read from its own /proc/self/maps)
prog_libgc() {
  local lang=$1 envcmd=(env -u LD_LIBRARY_PATH)
  [ "$2" = ours ] && envcmd=(env LD_LIBRARY_PATH="$GCC_LIBDIR")
  case $lang in
  guile)
    "${envcmd[@]}" guile --no-auto-compile -c '(use-modules (ice-9 rdelim))
      (call-with-input-file "/proc/self/maps"
        (lambda (p) (let loop ((l (read-line p)))
          (unless (eof-object? l)
            (when (string-contains l "/libgc.so") (display l) (newline))
            (loop (read-line p))))))' ;;
  ecl)
    "${envcmd[@]}" ecl --norc --eval '(with-open-file (s "/proc/self/maps")
      (loop for l = (read-line s nil) while l
            when (search "/libgc.so" l) do (write-line l)))' --eval '(ext:quit 0)' ;;
  esac 2>/dev/null | awk '{ print $NF }' | sort -u | xargs -r readlink -f | sort -u | tr '\n' ' ' | sed 's/ $//'
}
part_programs() {
  hr "programs: Guile and ECL on Debian's libgc.so.1 and ours: $PROG_NAMES, $PROG_REPS reps"
  mdsay "### Real programs: Guile 3.0 and ECL on our libgc.so.1 vs Debian's (median of $PROG_REPS)"
  mdsay ""
  if [ "${HAVE[gccompat]}" != 1 ]; then
    mdsay "skipped: our libgc.so.1 is not built (make build builds it)"; mdsay ""; return
  fi
  local langs="" lang n v r
  for lang in guile ecl; do
    if [ "${HAVE[$lang]}" != 1 ]; then
      mdsay "${PROG_LANG_LABEL[$lang]}: skipped ($lang is not installed; apt-get install -y $([ $lang = guile ] && echo guile-3.0 || echo ecl))"
      continue
    fi
    # each variant must map the intended libgc.so.1
    local ls lo
    ls=$(prog_libgc "$lang" stock); lo=$(prog_libgc "$lang" ours)
    say "${PROG_LANG_LABEL[$lang]}: stock maps ${ls:-no libgc.so.1}; ours maps ${lo:-no libgc.so.1}"
    if [ -z "$ls" ] || [ -z "$lo" ] || [ "$(dirname "$lo")" != "$GCC_LIBDIR" ] || [ "$(dirname "$ls")" = "$GCC_LIBDIR" ] ||
      [ "$ls" = "$lo" ]; then
      fail "${PROG_LANG_LABEL[$lang]}: wrong libgc.so.1 (stock maps '${ls}', ours maps '${lo}', ours should be in $GCC_LIBDIR)"
      mdsay "${PROG_LANG_LABEL[$lang]}: skipped (the stock and our runs would not map the intended libgc.so.1)"
      continue
    fi
    PROG_LIBGC[$lang]="stock: $ls; ours: $lo"
    mkdir -p "$OUT/programs/$lang"
    rm -f "$OUT/programs/$lang"/*
    local ok=""
    for n in $PROG_NAMES; do
      if prog_compile "$lang" "$n"; then ok="$ok $n"
      else fail "${PROG_LANG_LABEL[$lang]}: compiling $n failed: $(tail -n 3 "$OUT/logs/compile-$lang-$n.log" | tr '\n' ' ')"; fi
    done
    PROG_OK[$lang]=$ok
    [ -n "$ok" ] && langs="$langs $lang"
  done
  local order
  for r in $(seq 1 "$PROG_REPS"); do
    # which library runs first alternates too: a program run right after
    # another finds the machine in a different state (caches, frequency)
    if [ $((r % 2)) = 1 ]; then order="stock ours"; else order="ours stock"; fi
    for lang in $langs; do
      for n in ${PROG_OK[$lang]}; do
        for v in $order; do
          prog_cmd "$lang" "$n"
          PROG_SIZE=$PROG_SIZE GUILE_AUTO_COMPILE=0 run_one "$lang-$n" prog "$v" "$r" "${PROG_CMD[@]}"
        done
      done
    done
  done
  echo
  local all_bad=()
  for lang in $langs; do
    local ver bad=()
    case $lang in
    guile) ver=$(guile --version 2>/dev/null | head -n1 | awk '{ print $NF }') ;;
    ecl) ver=$(ecl --version 2>/dev/null | head -n1 | awk '{ print $NF }') ;;
    esac
    mdsay "#### ${PROG_LANG_LABEL[$lang]} $ver ($([ $lang = guile ] && echo "compiled to .go ahead; timed: guile -c '(load-compiled \"x.go\")'" || echo "compiled to native code (.fas) ahead; timed: ecl --norc --load x.fas"))"
    mdsay ""
    {
      echo "program|stock wall s|ours wall s|wall ratio|wall ratio, paired|stock RSS MB|ours RSS MB|RSS ratio|stock CPU s|ours CPU s|CPU ratio"
      for n in ${PROG_OK[$lang]}; do
        local sw ow sr or sc oc pw
        sw=$(med "$lang-$n" prog stock wall); ow=$(med "$lang-$n" prog ours wall)
        sr=$(med "$lang-$n" prog stock rss); or=$(med "$lang-$n" prog ours rss)
        sc=$(med "$lang-$n" prog stock cpu); oc=$(med "$lang-$n" prog ours cpu)
        pw=$(pmed "$lang-$n" prog ours stock wall)
        echo "$n|$(fmt "$sw" %.2f)|$(fmt "$ow" %.2f)|$(ratio "$ow" "$sw")|$(fmt "$pw" %.2fx)|$(fmt "$sr" %.0f)|$(fmt "$or" %.0f)|$(ratio "$or" "$sr")|$(fmt "$sc" %.2f)|$(fmt "$oc" %.2f)|$(ratio "$oc" "$sc")"
      done
    } | table
    # the target, on the unrounded medians; wall time on the paired one
    # (each rep's two runs back to back): the machine's speed drifts over
    # a part's minutes by more than the difference judged (one run: ECL's
    # lists 1.45-2.25 s on either library; its medians' ratio 1.11x, its
    # paired ratios 1.17, 0.94, 1.00, 0.97, 0.98x)
    for n in ${PROG_OK[$lang]}; do
      local wq rq
      wq=$(pmed "$lang-$n" prog ours stock wall)
      [ -n "$wq" ] || wq=NA
      rq=$(awk -v a="$(med "$lang-$n" prog ours rss)" -v b="$(med "$lang-$n" prog stock rss)" 'BEGIN { if (a == "NA" || b == "NA" || b + 0 == 0) print "NA"; else printf "%.4f", a / b }')
      if [ "$wq" = NA ] || [ "$rq" = NA ]; then bad+=("$n: no figures"); continue; fi
      awk -v q="$wq" 'BEGIN { exit !(q > 1.00) }' && bad+=("$n wall $(printf '%.2f' "$wq")x")
      awk -v q="$rq" 'BEGIN { exit !(q > 1.10) }' && bad+=("$n RSS $(printf '%.2f' "$rq")x")
    done
    if [ ${#bad[@]} = 0 ]; then
      mdsay "${PROG_LANG_LABEL[$lang]} target: every wall ratio <= 1.00 and RSS ratio <= 1.10: **met**"
    else
      mdsay "${PROG_LANG_LABEL[$lang]} target: every wall ratio <= 1.00 and RSS ratio <= 1.10: **NOT met** ($(IFS=';'; echo "${bad[*]}" | sed 's/;/, /g'))"
      all_bad+=("${PROG_LANG_LABEL[$lang]}: ${bad[*]}")
    fi
    mdsay "libgc.so.1 mapped (from /proc/self/maps): ${PROG_LIBGC[$lang]}"
    mdsay ""
  done
  [ -n "$langs" ] || { mdsay "no language ran"; mdsay ""; return; }
  if [ ${#all_bad[@]} = 0 ]; then
    mdsay "Target (issue 12, item 3), every program of every language run ($langs ): **met**"
  else
    mdsay "Target (issue 12, item 3), every program of every language run ($langs ): **NOT met** ($(IFS=';'; echo "${all_bad[*]}" | sed 's/;/; /g'))"
  fi
  mdsay "Ratios are ours / stock of the medians; \"paired\": the median of each rep's ours / stock, run back to back (the wall-time target's: the machine's speed drifts between reps); $PROG_REPS reps, stock and ours alternating, program by program. Sources: bench/programs/ (sizes at the top of each file$([ "$PROG_SIZE" = smoke ] && echo "; PROG_SIZE=smoke: tiny sizes")). Wall time on a shared machine is noisy: compare with the CPU column."
  mdsay ""
}

# ---------------------------------------------------------------- wpcost
# The two costs the generational collector's protection policy weighs
# (src/genprotect.c): a protect call and a fault on a protected page, on
# this machine, alone and with another thread of the process running
# (bench/wpcost.c; no spangc in it).
part_wpcost() {
  hr "wpcost: the kernel's write-protect call and fault, measured"
  mdsay "### Write tracking's costs on this machine (bench/wpcost.c, medians)"
  mdsay ""
  if ! $CC $CFLAGS -pthread "$HERE/wpcost.c" -o "$OUT/bin/wpcost" 2>"$OUT/logs/build-wpcost.log"; then
    fail "wpcost does not build (see $OUT/logs/build-wpcost.log)"
    mdsay "n/a (does not build)"; mdsay ""; return
  fi
  local out
  if ! out=$("$OUT/bin/wpcost" 2>&1); then
    fail "wpcost failed: $out"
    mdsay "n/a (failed: $out)"; mdsay ""; return
  fi
  echo "$out" | sed -n '2,$p' | sed 's/^ *//; s/^/- /' | while IFS= read -r l; do mdsay "$l"; done
  mdsay ""
  mdsay "Shared machines inflate both (a loaded run measured 30 us a call and 27 us a fault); compare them within one run."
  mdsay ""
}

# ---------------------------------------------------------------- stall
# The floor under any concurrent collector's pauses on this machine: how
# long one thread's steps stall alone and beside a busy thread of the
# process (bench/stall.c; no collector in it).  On this project's virtual
# machines a page fault taken while the other CPU is busy can wait tens of
# milliseconds for the host, which is what the concurrent mode's worst
# pushes are made of (issue #14).
part_stall() {
  hr "stall: one thread's steps, alone and beside a busy thread (no collector)"
  mdsay "### Stalls on this machine without a collector (bench/stall.c)"
  mdsay ""
  if ! $CC $CFLAGS -pthread "$HERE/stall.c" -o "$OUT/bin/stall" 2>"$OUT/logs/build-stall.log"; then
    fail "stall does not build (see $OUT/logs/build-stall.log)"
    mdsay "n/a (does not build)"; mdsay ""; return
  fi
  local out mb=1024
  [ "$MODE" = smoke ] && mb=64
  if ! out=$("$OUT/bin/stall" 3 $mb 2>&1); then
    fail "stall failed: $out"
    mdsay "n/a (failed: $out)"; mdsay ""; return
  fi
  echo "$out" | sed -n '2,$p' | sed 's/^ *//; s/^/- /' | while IFS= read -r l; do mdsay "$l"; done
  mdsay ""
  mdsay "A concurrent collector keeps the other CPU busy while the program runs, and a pause-test push that takes a page fault then (a first write to a fresh page, or to a protected one during spangc's concurrent mark) can wait as long as the busy column's faults: compare the pause tables' concurrent worst push with it."
  mdsay ""
}

# ---------------------------------------------------------------- RSS / live
# Peak RSS against the live size (issue #15, item 5): one table over the
# benchmarks the parts of this run measured.  The live size is known by
# construction where the program fixes it (the figures and reasons are in
# rl_rows); beside it, spangc's own view: the most a collection found live
# (gctrace's "->N MB live", the largest over the run) in one extra run of
# the spangc binary with SPANGC_GENERATIONAL=0 and SPANGC_DEBUG=gctrace=1
# (every collection a full one), a lower bound of the peak live, since
# collections see the heap only at moments.  Where no construction gives
# the live size (soak, the Guile and ECL programs), the ratio is against
# that measured figure, and says so; where neither exists, n/a.
# RSSLIVE_MEASURE=0 skips the extra runs.
# live_measured NAME COMMAND...: runs COMMAND (a spangc program, or one on
# our libgc.so.1) once under gctrace, prints the largest live figure in MB
# (NA if it failed, or no collection found anything live: a short run may
# collect only once, at start-up)
live_measured() {
  local name=$1; shift
  [ "${RSSLIVE_MEASURE:-1}" = 1 ] || { echo NA; return; }
  local log=$OUT/logs/livetrace-$name st=0
  rm -f "$log.measure"
  "$OUT/measure" -o "$log.measure" -m "$SPANGC_RSS_LIMIT_MB" -t "$RUN_TIMEOUT_S" -- \
    env SPANGC_GENERATIONAL=0 SPANGC_DEBUG=gctrace=1 "$@" >"$log.out" 2>"$log.log" || st=$?
  if [ $st != 0 ]; then
    fail "live measurement $name: exit status $st; $(grep -v '^gc \|^heap ' "$log.log" | tail -n 3 | tr '\n' ' ')"
    echo NA; return
  fi
  awk '$1 == "gc" && match($0, /->[0-9.]+ MB live/) { v = substr($0, RSTART + 2, RLENGTH - 10) + 0; if (v > m) m = v; n++ }
    END { if (m > 0) printf "%.1f\n", m; else print "NA" }' "$log.log"
}
# variants of BENCH PARAMS in results.tsv with ok runs, in order of appearance
rl_variants() { awk -F'\t' -v b="$1" -v p="$2" '$1 == b && $2 == p && $5 == "ok" && !seen[$3]++ { print $3 }' "$RES"; }
# rl_cell BENCH PARAMS VARIANT LIVE -> "RSS (RSS/live)" or "-"
rl_cell() {
  local r; r=$(med "$1" "$2" "$3" rss)
  [ "$r" = NA ] && { echo "-"; return; }
  echo "$(fmt "$r" %.0f) ($(ratio "$r" "$4"))"
}
# the table's rows: "label|bench|params|live MB or NA|how|measure-name|command..."
rl_rows() {
  local W S N d n
  if want allocfree && [ -n "$(rl_variants allocfree t=1)" ]; then
    local lp=NA v
    for v in $(rl_variants allocfree t=1); do lp=$(med allocfree t=1 "$v" live_peak_mb); [ "$lp" != NA ] && break; done
    echo "allocfree, 1 thread|allocfree|t=1|$lp|counted by the program: the window's peak, bytes as requested (explicit frees)|allocfree|$OUT/bin/af-spangc -t 1 -n $AF_PAIRS -w $AF_WINDOW"
  fi
  if want binarytrees; then
    d=$BT_DEPTH
    echo "binary-trees $d|binarytrees|d=$d|$(awk -v d="$d" 'BEGIN { printf "%.1f", (2 ^ (d + 2) - 1) * 16 / 1048576 }')|by construction: the stretch tree of depth $((d + 1)), 2^$((d + 2))-1 nodes of 16 B (as much as the long-lived tree of depth $d and one temporary tree of depth $d together)|bt|$OUT/bin/binarytrees-spangc $d"
  fi
  if want gcbench; then
    echo "GCBench|gcbench|std|$(awk 'BEGIN { printf "%.1f", (2 ^ 19 - 1) * 24 / 1048576 }')|by construction: the stretch tree of depth 18, 2^19-1 nodes of 24 B (later at most 10.3 MB: the long-lived tree of depth 16, the 4 MB array and one tree of depth 16)|gcbench|$OUT/bin/gcbench-spangc"
  fi
  if want pause; then
    read -r W S N <<<"$PAUSE_ARGS"
    for n in 1 0; do
      echo "pause $W x $S B, scanned=$n|pause|s=$n|$(awk -v w="$W" -v s="$S" 'BEGIN { printf "%.1f", w * (s + 8) / 1048576 }')|by construction: the window, $W x ($S B + an 8-byte slot); RSS also holds the $N-float latency array ($((N * 4 / 1048576)) MB)|pause$n|$OUT/bin/pause-spangc $W $S $N $n"
    done
  fi
  if want pause1g && [ -n "$(rl_variants pause1g s=1)" ]; then
    read -r W S N <<<"$PAUSE1G_ARGS"
    echo "pause $W x $S B (1 GB live)|pause1g|s=1|$(awk -v w="$W" -v s="$S" 'BEGIN { printf "%.1f", w * (s + 8) / 1048576 }')|by construction, as for pause|-|"
  fi
  if want gen || want memlimit; then
    local SM GM nn rw yl
    read -r SM GM <<<"$GEN_ARGS"
    nn=$((SM * 1048576 / 40)); rw=$((nn / 65536 + 1))
    yl=$(awk -v n="$nn" -v r="$rw" -v g="$GM" 'BEGIN { k = r * g; if (k > n) k = n; printf "%.1f", k * 4 * 32 / 1048576 }')
    local how="by construction: the structure, $SM MB of 32-byte nodes and their pointer array, + at most $yl MB of 4-cell young lists hung by rewrites (the bound is used)"
    [ -n "$(rl_variants gen mixed)" ] &&
      echo "gen.c mixed ($SM MB, $GM MB garbage)|gen|mixed|$(awk -v a="$SM" -v b="$yl" 'BEGIN { printf "%.1f", a + b }')|$how|gen|$OUT/bin/gen-spangc $SM $GM mixed"
    [ -n "$(rl_variants gen writeall)" ] &&
      echo "gen.c writeall|gen|writeall|$(awk -v a="$SM" -v b="$yl" 'BEGIN { printf "%.1f", a + b }')|as gen.c mixed|-|"
  fi
  if want shrink; then
    local LIVE SECS; read -r LIVE SECS <<<"$SHRINK_ARGS"
    [ -n "$(rl_variants shrink "$LIVE")" ] &&
      echo "shrink $LIVE MB|shrink|$LIVE|$LIVE|by construction: $LIVE MB of 8 KiB objects before the drop to a tenth (the peak)|shrink|$OUT/bin/shrink-spangc $LIVE $SECS"
  fi
  if want soak && [ -n "$(rl_variants soak "s=$SOAK_SECONDS")" ]; then
    echo "soak, $SOAK_THREADS threads, $SOAK_SECONDS s|soak|s=$SOAK_SECONDS|NA|n/a by construction (random trees of random sizes); ratio against spangc's measured live|soak|$OUT/bin/soak-spangc $SOAK_SECONDS $SOAK_THREADS"
  fi
  if want programs; then
    local lang
    for lang in guile ecl; do
      for n in ${PROG_OK[$lang]:-}; do
        echo "${PROG_LANG_LABEL[$lang]} $n|$lang-$n|prog|NA|n/a by construction (the interpreter's own heap); measured on our libgc.so.1|prog-$lang-$n|prog:$lang:$n"
      done
    done
  fi
}
RL_COLS="spangc spangc-conc spangc-nogen bdwgc-api-on-spangc bdwgc bdwgcm malloc mimalloc go"
rss_live_table() {
  local rows=() row
  mapfile -t rows < <(rl_rows)
  [ ${#rows[@]} -gt 0 ] || return 0
  hr "peak RSS against live"
  local out=() notes=() label bench params live how mname cmd meas use v col
  for row in "${rows[@]}"; do
    IFS='|' read -r label bench params live how mname cmd <<<"$row"
    meas=NA
    if [ "$mname" != - ] && [ -n "$cmd" ]; then
      case $cmd in
      prog:*) # a Guile or ECL program on our libgc.so.1
        local pl=${cmd#prog:}
        prog_cmd "${pl%%:*}" "${pl#*:}"
        meas=$(live_measured "$mname" env LD_LIBRARY_PATH="$GCC_LIBDIR" PROG_SIZE="$PROG_SIZE" GUILE_AUTO_COMPILE=0 "${PROG_CMD[@]}") ;;
      *) [ -x "${cmd%% *}" ] && meas=$(live_measured "$mname" $cmd) ;;
      esac
    fi
    use=$live; [ "$use" = NA ] && use=$meas
    local line="$label|$(fmt "$live" %.1f)|$(fmt "$meas" %.1f)" other=""
    for col in $RL_COLS; do
      v=$col
      case $bench in guile-* | ecl-*)
        case $col in bdwgc) v=stock ;; bdwgc-api-on-spangc) v=ours ;; *) v=- ;; esac ;;
      esac
      if [ "$v" = - ]; then line="$line|-"; else line="$line|$(rl_cell "$bench" "$params" "$v" "$use")"; fi
    done
    for v in $(rl_variants "$bench" "$params"); do
      case " $RL_COLS stock ours " in *" $v "*) continue ;; esac
      other="$other${other:+, }$v $(rl_cell "$bench" "$params" "$v" "$use")"
    done
    local src=construction
    case $how in counted*) src=counted ;; "n/a by construction"*) src="n/a; measured" ;; esac
    [ "$meas" = NA ] && [ "$live" = NA ] && src=n/a
    out+=("$line|${other:--}|$src")
    notes+=("- $label: $how")
  done
  mdsay "### Peak RSS against live (issue #15, item 5): peak RSS MB (RSS / live) per variant, medians of the runs above"
  mdsay ""
  {
    local h="benchmark|live MB|spangc max live seen MB"
    for col in $RL_COLS; do h="$h|${LABEL[$col]%% (*}"; done
    echo "$h|other variants|live from"
    printf '%s\n' "${out[@]}"
  } | table
  printf '%s\n' "${notes[@]}" | tee -a "$MD"
  mdsay ""
  mdsay "Live MB: what the program holds at its peak, by construction where the program fixes it (the list above); RSS / live is against that figure, or, where it is n/a, against \"spangc max live seen\": the most a collection found live (gctrace, one run of the spangc binary with SPANGC_GENERATIONAL=0 so every collection is full; a lower bound, collections see the heap only at moments; logs/livetrace-*.log). For the Guile and ECL programs bdwgc is Debian's libgc.so.1 (stock) and \"bdwgc API on spangc\" ours. MB are MiB; peak RSS includes the program's own memory beside the heap."
  mdsay ""
}

# ---------------------------------------------------------------- sizing
# Heap sizing by cost (issue #15, item 3): GOGC's room, proportional to
# the live heap (the default), against MemBalancer's square-root rule
# (SPANGC_SIZING=sqrt, src/pacer.c), on the collector benchmarks, the two
# back to back in every rep.  The figure of merit is time x memory (wall x
# peak RSS): a ratio below 1.00x means the square-root rule buys its
# memory saving for less than it costs in time.  The ratios are medians of
# the per-rep ratios (pmed), so a change of the machine's speed between
# reps cancels out.
part_sizing() {
  local SM GM W S N
  read -r SM GM <<<"$GEN_ARGS"
  read -r W S N <<<"$PAUSE_ARGS"
  hr "sizing: SPANGC_SIZING=gogc (the default) against sqrt, $REPS reps"
  # label|bench|params|binary prefix|arguments
  local rows=(
    "binary-trees $BT_DEPTH|sz-binarytrees|d=$BT_DEPTH|binarytrees|$BT_DEPTH"
    "GCBench|sz-gcbench|std|gcbench|"
    "pause $W x $S B, scanned=1|sz-pause|s=1|pause|$W $S $N 1"
    "pause $W x $S B, scanned=0|sz-pause|s=0|pause|$W $S $N 0"
    "gen.c mixed ($SM MB, $GM MB garbage)|sz-gen|mixed|gen|$SM $GM mixed"
  )
  local row label bench params bin args r v ran=()
  for row in "${rows[@]}"; do
    IFS='|' read -r label bench params bin args <<<"$row"
    exists "$bin-spangc" && exists "$bin-spangc-sqrt" && ran+=("$row")
  done
  if [ ${#ran[@]} = 0 ]; then
    mdsay "### Heap sizing by cost: n/a (no spangc collector binaries)"; mdsay ""; return
  fi
  for r in $(seq 1 "$REPS"); do
    for row in "${ran[@]}"; do
      IFS='|' read -r label bench params bin args <<<"$row"
      for v in spangc spangc-sqrt; do
        # shellcheck disable=SC2086 # args: several words
        run_one "$bench" "$params" "$v" "$r" "$OUT/bin/$bin-$v" $args
      done
    done
  done
  echo
  mdsay "### Heap sizing by cost: GOGC=100 (default) against the square-root rule (SPANGC_SIZING=sqrt), median of $REPS"
  mdsay ""
  local out=("benchmark|gogc wall s|gogc RSS MB|sqrt wall s|sqrt RSS MB|wall sqrt/gogc|RSS sqrt/gogc|time x memory sqrt/gogc|worst push gogc -> sqrt ms")
  local tm better=0 n=0 logsum=0 wr rr wg ws
  for row in "${ran[@]}"; do
    IFS='|' read -r label bench params bin args <<<"$row"
    wr=$(pmed "$bench" "$params" spangc-sqrt spangc wall)
    rr=$(pmed "$bench" "$params" spangc-sqrt spangc rss)
    tm=$(pmed "$bench" "$params" spangc-sqrt spangc wallrss)
    wg=-; ws=-
    if [ "$bin" = pause ]; then
      wg=$(fmt "$(med "$bench" "$params" spangc worst_ms)" %.2f)
      ws=$(fmt "$(med "$bench" "$params" spangc-sqrt worst_ms)" %.2f)
    fi
    out+=("$label|$(fmt "$(med "$bench" "$params" spangc wall)" %.2f)|$(fmt "$(med "$bench" "$params" spangc rss)" %.0f)|$(fmt "$(med "$bench" "$params" spangc-sqrt wall)" %.2f)|$(fmt "$(med "$bench" "$params" spangc-sqrt rss)" %.0f)|$(fmt "$wr" %.2fx)|$(fmt "$rr" %.2fx)|$(fmt "$tm" %.2fx)|$( [ "$bin" = pause ] && echo "$wg -> $ws" || echo -)")
    if [ "$tm" != NA ]; then
      n=$((n + 1))
      awk -v t="$tm" 'BEGIN { exit !(t < 1) }' && better=$((better + 1))
      logsum=$(awk -v s="$logsum" -v t="$tm" 'BEGIN { printf "%.6f", s + log(t) }')
    fi
  done
  printf '%s\n' "${out[@]}" | table
  if [ $n -gt 0 ]; then
    local gm
    gm=$(awk -v s="$logsum" -v n="$n" 'BEGIN { printf "%.2f", exp(s / n) }')
    mdsay "The square-root rule has the smaller time x memory on $better of $n benchmarks; geometric mean of the ratios ${gm}x (below 1.00x: it is the better trade overall). The default is GOGC's proportional room (docs/design.md, \"Sizing by cost\", says when that would change)."
  fi
  mdsay ""
}

# ---------------------------------------------------------------- main
echo "spangc bench: BENCH=$MODE, parts: $PARTS, reps: $REPS  (output: $OUT)"
check_packages
install_spangc
find_gc_compat
build_measure
if want binarytrees || want gcbench || want pause || want pause1g || want scaling || want gen || want sizing || want memlimit || want shrink || want soak; then probe_collector; fi
build_all
summary
{
  echo "## Benchmark results"
  echo
  echo "Generated by \`bench/run.sh\` (BENCH=$MODE). Medians of repeated runs; wall and CPU (user+sys) in seconds, peak RSS in MB (wait4 ru_maxrss)."
  echo
} >"$MD"
{ echo "field|value"; cat "$OUT/data/summary.txt"; } | table >/dev/null

want allocfree && part_allocfree
want binarytrees && part_binarytrees
want gcbench && part_gcbench
want pause && part_pause
want pause1g && part_pause1g
want stall && part_stall
want scaling && part_scaling
want gen && part_gen
want wpcost && part_wpcost
want sizing && part_sizing
want memlimit && part_memlimit
want shrink && part_shrink
want fibers && part_fibers
want soak && part_soak
want programs && part_programs
rss_live_table
check_spangc_rows

T_END=$(date +%s)
mdsay "Run time: $((T_END - T_START)) s (BENCH=$MODE, parts: $PARTS)." >/dev/null
hr "summary"
{ echo "field|value"; cat "$OUT/data/summary.txt"; echo "duration|$((T_END - T_START)) s"; } | awk -F'|' '{ printf "%-28s %s\n", $1, $2 }'
echo "results: $MD"
ls "$OUT"/*.png 2>/dev/null | sed 's/^/plot:    /'
if [ $FAIL != 0 ]; then
  echo
  echo "!!! BENCH FAILED (${#FAILURES[@]} problem(s)):" >&2
  printf '  - %s\n' "${FAILURES[@]}" >&2
  exit 1
fi
echo "bench OK (all check values agree)"
