#!/usr/bin/env bash
# make check: build and run the suite in every configuration, then print
# one summary line ("N passed, N failed") that CI runners recognise.
#   release  : optimised, every test at full size
#   asan     : the debug build (invariants asserted, SPANGC_DEBUG=1) with
#              AddressSanitizer + UndefinedBehaviorSanitizer, every test
#              but those in ENV_BLIND below, at 0.25 size
#   tsan     : ThreadSanitizer, the tests labelled "threads", at 0.05 size
#              (only their programs are built: target tests_threads)
#              (TSan reports an unordered pair of accesses whenever both
#              run, not only when they collide: more rounds add little,
#              and at 0.1 this was 350 of the suite's 1750 s)
#   nogen    : the release build again with SPANGC_GENERATIONAL=0 (every
#              collection major) at 0.25 size, without the long program
#              and soak runs and without the tests in ENV_BLIND and HEAVY
#   nodirty  : the release build again with SPANGC_DIRTY=off (no kernel
#              write tracking: every collection major, no concurrent
#              marking, as on a kernel before 6.7), the tests of nogen at
#              0.25 size
#   conc     : the release build again with SPANGC_CONCURRENT=1 (major
#              collections mark concurrently), the same tests as nogen,
#              then the HEAVY ones at 0.05 size (conc-small)
#   tsanconc : the TSan build again with SPANGC_CONCURRENT=1, the tests
#              labelled "threads" that collect most (gc_, gen_, conc_,
#              stress), but gc_seed_regression_allspans (HEAVY), at 0.05
#              size (at 0.1 it took half the time of the whole tsan run)
#   fuzz     : the API fuzzer (libFuzzer) for FUZZ_SECONDS (default 30;
#              make fuzz runs it for 300)
#   debug    : (not in the default set) the debug build without
#              sanitizers, at 0.3 size.  asan is a debug build too, so
#              every assertion runs there; the plain one repeated the same
#              tests (5 of the 36 minutes the suite took) and is for
#              hunting a failure with gdb.
# CONFIGS="release debug" restricts (or extends) the set.
#
# What the configurations that only change an environment variable
# (nogen, nodirty, conc, tsanconc) or the build (asan) leave out, and why.
# Every test runs in release; every other test runs in asan too; every
# conc_, gen_ and stress_ test runs in conc.
#   ENV_BLIND: their outcome cannot depend on SPANGC_GENERATIONAL,
#     SPANGC_DIRTY, SPANGC_CONCURRENT or the build type: they read or
#     compile sources, or list a library's symbols, and never collect:
#     the docs tests (label "docs": design_rules_are_cited_and_named_code_
#     exists, lockrank_table_matches_design_md), bdwgc_headers_compile_
#     cleanly and bdwgc_abi_matches_stock_headers (compile the headers),
#     lib_exports_only_sgc_symbols, lib_static_exports_what_the_shared_lib_
#     does and bdwgc_lib_exports_exactly_symbols_txt (nm of the
#     libraries).  Together 40-100 CPU-seconds per run; they run in
#     release only.
#   HEAVY: fiber_seed_hazards and gc_seed_regression_allspans, the two
#     costliest tests at any size (fibers x collections; a verified heap
#     every cycle): in conc they took 380 of its 653 CPU-seconds.  Their
#     hazards are stop-the-world ones: the collections they drive are
#     sgc_collect's, major in every configuration, and the mark hook that
#     grows allspans under the markers runs in a stop (in conc, the final
#     stop, a stopped mark like any other).  So nogen adds nothing to
#     release for them and is left out; conc runs them once more at 0.05
#     size (conc-small: fibers and span growth with a concurrent phase
#     before the stop, about 20 CPU-seconds); tsanconc leaves out
#     gc_seed_regression_allspans (tsan runs it, 60-130 CPU-seconds
#     there; fiber_ tests were never in tsanconc).
set -u
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
CONFIGS=${CONFIGS:-"release nogen nodirty conc asan tsan tsanconc fuzz"}
pass=0; fail=0; failed_names=(); failed_output=(); built=()

# BUILD_TARGET=t: build only target t (and what it depends on), not all.
run_config() {
  local name=$1 dir=$2 ctest_args=$3; shift 3
  local t0=$SECONDS target=${BUILD_TARGET:-all}
  # A directory built earlier in this run with the same options is not
  # configured and built again (a no-op build still took 24 s).
  local key="$dir|$target|$*" k again=0
  for k in "${built[@]}"; do
    [ "$k" = "$key" ] && again=1
  done
  if [ $again -eq 1 ]; then
    echo "=== $name: test (reusing $dir, built above)"
  else
    echo "=== $name: configure and build ($dir)"
    mkdir -p "$dir"
    if ! cmake -S . -B "$dir" -DSPANGC_BUILD_TESTS=ON "$@" >"$dir/configure.log" 2>&1 ||
       ! cmake --build "$dir" -j"$JOBS" --target "$target" >"$dir/build.log" 2>&1; then
      cat "$dir/configure.log" "$dir/build.log" 2>/dev/null | tail -40
      echo "=== $name: BUILD FAILED"
      fail=$((fail + 1)); failed_names+=("$name:build")
      return
    fi
    built+=("$key")
    echo "=== $name: test (built in $((SECONDS - t0)) s)"
  fi
  t0=$SECONDS
  local log="$dir/ctest-$name.log"
  # The shown lines are cut at 200 by awk, which reads on to the end:
  # 'head -200' here once closed the pipe, and tee and ctest died of
  # SIGPIPE with tests not yet started (release lost its last four, the
  # bdwgc programs, counted neither passed nor failed).
  (cd "$dir" && ctest --output-on-failure -j"$JOBS" $ctest_args) 2>&1 | tee "$log" | grep -E "Test +#|tests passed|Failed|\*\*\*|CHECK|spangc:|ERROR|WARNING: ThreadSanitizer|SUMMARY" | awk 'NR <= 200'
  local p f
  p=$(grep -cE "^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed" "$log")
  f=$(grep -cE "^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(\*\*\*|Failed|Timeout|Exception)" "$log")
  # Every test ctest listed must have an outcome: a run cut short fails.
  local want
  want=$(cd "$dir" && ctest -N $ctest_args | sed -nE 's/^Total Tests: ([0-9]+)$/\1/p')
  if [ -z "$want" ] || [ $((p + f)) -ne "$want" ]; then
    echo "=== $name: $((p + f)) outcomes for ${want:-?} tests: the run was cut short"
    f=$((f + 1)); failed_names+=("$name:incomplete-run")
  fi
  pass=$((pass + p)); fail=$((fail + f))
  echo "=== $name: $p passed, $f failed in $((SECONDS - t0)) s (suite at $((SECONDS / 60)) min)"
  for t in $(grep -E "^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*(\*\*\*|Failed|Timeout|Exception)" "$log" | sed -E 's/.*Test +#[0-9]+: ([^ ]+).*/\1/'); do
    failed_names+=("$name:$t")
    # Its outcome line and what it printed (ctest puts that after the
    # line), kept to be shown again at the end: CI's record keeps only the
    # last lines of the run, and a rare failure must be diagnosable from
    # it.
    failed_output+=("--- $name:$t" "$(awk -v t="$t" '
      /^ *[0-9]+\/[0-9]+ Test +#[0-9]+: / {
        on = index($0, " " t " ") > 0; if (on) print; next }
      /% tests passed, / { on = 0 }
      on' "$log" | tail -25)")
  done
}

ENV_BLIND='design_rules_are_cited_and_named_code_exists|lockrank_table_matches_design_md|bdwgc_headers_compile_cleanly|bdwgc_abi_matches_stock_headers|lib_exports_only_sgc_symbols|lib_static_exports_what_the_shared_lib_does|bdwgc_lib_exports_exactly_symbols_txt'
HEAVY='fiber_seed_hazards|gc_seed_regression_allspans'
LEAN="-LE (programs|soak|bench) -E ^($ENV_BLIND|$HEAVY)\$"

mkdir -p build
for c in $CONFIGS; do
  case $c in
    release) run_config release build "" -DCMAKE_BUILD_TYPE=Release ;;
    nogen)   SPANGC_GENERATIONAL=0 SPANGC_TEST_SCALE=0.25 \
             run_config nogen build "$LEAN" -DCMAKE_BUILD_TYPE=Release ;;
    nodirty) SPANGC_DIRTY=off SPANGC_TEST_SCALE=0.25 \
             run_config nodirty build "$LEAN" -DCMAKE_BUILD_TYPE=Release ;;
    conc)    SPANGC_CONCURRENT=1 SPANGC_TEST_SCALE=0.5 \
             run_config conc build "$LEAN" -DCMAKE_BUILD_TYPE=Release
             SPANGC_CONCURRENT=1 SPANGC_TEST_SCALE=0.05 \
             run_config conc-small build "-R ^($HEAVY)\$" -DCMAKE_BUILD_TYPE=Release ;;
    debug)   SPANGC_TEST_SCALE=0.3 \
             run_config debug build-debug "-E ^($ENV_BLIND)\$" -DCMAKE_BUILD_TYPE=Debug ;;
    asan)    ASAN_OPTIONS=detect_leaks=0:detect_stack_use_after_return=0:abort_on_error=1 \
             UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 SPANGC_TEST_SCALE=0.25 \
             run_config asan build-asan "-E ^($ENV_BLIND)\$" -DCMAKE_BUILD_TYPE=Debug -DSPANGC_SANITIZE=address,undefined \
               -DCMAKE_C_COMPILER=clang ;;
    tsan)    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 SPANGC_TEST_SCALE=0.05 \
             BUILD_TARGET=tests_threads run_config tsan build-tsan "-L threads" -DCMAKE_BUILD_TYPE=Release -DSPANGC_SANITIZE=thread \
               -DCMAKE_C_COMPILER=clang ;;
    tsanconc) SPANGC_CONCURRENT=1 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 SPANGC_TEST_SCALE=0.05 \
             BUILD_TARGET=tests_threads run_config tsanconc build-tsan "-L threads -R ^(gc_|gen_|conc_|stress_) -E ^gc_seed_regression_allspans\$" -DCMAKE_BUILD_TYPE=Release -DSPANGC_SANITIZE=thread \
               -DCMAKE_C_COMPILER=clang ;;
  esac
done
# The API fuzzer (libFuzzer, ASan+UBSan), for a bounded time.
if [[ " $CONFIGS " == *" fuzz "* ]]; then
  if command -v clang >/dev/null; then
    echo "=== fuzz: ${FUZZ_SECONDS:-30} s"
    if bash fuzz/run.sh "${FUZZ_SECONDS:-30}"; then
      pass=$((pass + 1))
    else
      fail=$((fail + 1)); failed_names+=("fuzz:api_fuzzer")
    fi
  fi
fi

echo
if [ ${#failed_output[@]} -gt 0 ]; then
  printf '%s\n' "${failed_output[@]}"
fi
if [ ${#failed_names[@]} -gt 0 ]; then
  echo "failed: ${failed_names[*]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
