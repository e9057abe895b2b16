#!/usr/bin/env bash
# fuzz/run.sh [SECONDS] — build the API fuzzer (libFuzzer + ASan + UBSan,
# the library compiled in with SPANGC_DEBUG=1) and run it for SECONDS
# (default 60).  Prints the number of executions; exits non-zero if the
# build fails or the fuzzer finds a crash (the input is saved under
# $FUZZ_BUILD/crashes/).  Environment: FUZZ_BUILD (default build-fuzz),
# CC (default clang), FUZZ_JOBS (default 1), extra libFuzzer flags in
# FUZZ_FLAGS.  Reproduce a crash: $FUZZ_BUILD/api_fuzzer <crash-file>.
set -u
cd "$(dirname "$0")/.."
SECS=${1:-60}
OUT=${FUZZ_BUILD:-build-fuzz}
CC=${CC:-clang}
mkdir -p "$OUT/corpus" "$OUT/crashes"
echo "=== fuzz: build $OUT/api_fuzzer"
if ! $CC -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
     -fno-omit-frame-pointer -std=gnu11 -D_GNU_SOURCE -DSPANGC_DEBUG=1 \
     -DSPANGC_SANITIZED=1 -Iinclude -Isrc -Itests src/*.c fuzz/api_fuzzer.c \
     -lpthread -o "$OUT/api_fuzzer" >"$OUT/build.log" 2>&1; then
  cat "$OUT/build.log" | tail -30
  echo "=== fuzz: BUILD FAILED"
  exit 2
fi
echo "=== fuzz: run for ${SECS}s (corpus $OUT/corpus + fuzz/corpus)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export SPANGC_DEBUG=${SPANGC_DEBUG_ENV:-verify=1}
"$OUT/api_fuzzer" -max_total_time="$SECS" -max_len=4096 -timeout=30 \
  -rss_limit_mb=4096 -detect_leaks=0 -print_final_stats=1 \
  -artifact_prefix="$OUT/crashes/" ${FUZZ_FLAGS:-} \
  "$OUT/corpus" fuzz/corpus >"$OUT/fuzz.log" 2>&1
rc=$?
execs=$(grep -E "stat::number_of_executed_units" "$OUT/fuzz.log" | awk '{print $2}')
grep -E "^#[0-9]+ +(INITED|DONE)|Done [0-9]+ runs" "$OUT/fuzz.log" | tail -3
echo "=== fuzz: ${execs:-?} executions in ${SECS}s, exit $rc"
if [ $rc -ne 0 ]; then
  grep -E "ERROR|api_fuzzer:|spangc:|SUMMARY|runtime error|Test unit written" "$OUT/fuzz.log" | head -20
  echo "=== fuzz: CRASH (log: $OUT/fuzz.log)"
fi
exit $rc
