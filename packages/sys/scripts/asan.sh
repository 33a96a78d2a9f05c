#!/usr/bin/env bash
# Runs the whole test suite of @ebpf/sys (kernel tests, the fuzz test and its child processes
# included) against an AddressSanitizer + UndefinedBehaviorSanitizer build of the addon.
# The sanitized addon is built in a temporary copy of the sources (build/ is left alone: others
# may be loading it) and loaded through EBPF_SYS_NATIVE. Node itself is not instrumented, so the
# sanitizer runtimes are preloaded. Leak checking is off: Node keeps allocations until exit.
#
#   bash scripts/asan.sh [vitest args]     # as root for the kernel tests, like `pnpm test`
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=$PWD
tmp=$(mktemp -d /tmp/ebpf-sys-asan.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/src"
cp binding.gyp "$tmp/"
cp src/*.cc src/*.h "$tmp/src/"
ln -s "$pkg/node_modules" "$tmp/node_modules"

flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all -g -O1"
# Through npx, so that npm's configuration (nodedir: the Node headers) reaches node-gyp.
CFLAGS="$flags" CXXFLAGS="$flags" LDFLAGS="-fsanitize=address,undefined" \
  npx --no-install node-gyp rebuild --directory="$tmp" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
addon="$tmp/build/Release/ebpf_sys.node"
ldd "$addon" | grep libasan >/dev/null || { echo "asan: the addon is not linked with libasan" >&2; exit 1; }

EBPF_SYS_NATIVE="$addon" \
LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)" \
ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1" \
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  npx --no-install vitest run --exclude '**/tarball.test.ts' "$@"
