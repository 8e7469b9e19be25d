#!/usr/bin/env bash
# README command 2: install what is missing, build everything with clang under
# AddressSanitizer + UndefinedBehaviorSanitizer (with libFuzzer coverage), and run
# every test: unit and end-to-end tests, then each fuzz target for a bounded time.
#   scripts/test.sh            all tests
#   scripts/test.sh -L unit    only a label (unit, e2e, fuzz, slow, bench)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# ccache hits across checkouts in other folders (CI clones afresh).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
BUILD=${RSP_TEST_BUILD_DIR:-build/test}
cmake -S . -B "$BUILD" -G Ninja \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DCMAKE_C_FLAGS_DEBUG="-O1 -g" \
  -DRSP_SANITIZE=ON -DRSP_FUZZ=ON -DRSP_FUZZ_SECONDS="${RSP_FUZZ_SECONDS:-20}" >/dev/null
ninja -C "$BUILD"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$BUILD"
ctest --output-on-failure -j2 "$@"
