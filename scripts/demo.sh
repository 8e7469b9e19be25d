#!/usr/bin/env bash
# README command 1: install what is missing, build the `rsp` tool (release, g++),
# and run the platform's demos (consumer, then M2M).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# ccache hits across checkouts in other folders (CI clones afresh).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
BUILD=${RSP_BUILD_DIR:-build/release}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRSP_TESTS=OFF -DRSP_BENCH=OFF >/dev/null
ninja -C "$BUILD" rsp
"$BUILD/rsp" demo "$@"
# The M2M story (SGP.02) on the embedded default, in one process: a few seconds.
exec "$BUILD/rsp" demo m2m
