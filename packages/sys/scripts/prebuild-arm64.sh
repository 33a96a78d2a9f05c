#!/usr/bin/env bash
# Cross-compiles the linux-arm64 prebuild (prebuilds/linux-arm64/@ebpf+sys.node) with Debian's
# cross toolchain (g++-aarch64-linux-gnu, installed by tools/setup.sh). The build runs in a
# temporary copy of the sources, so build/ (which node-gyp-build would load first) never holds an
# arm64 binary. Without the cross compiler it says so and leaves prebuilds/linux-arm64 alone.
#
#   bash scripts/prebuild-arm64.sh
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=$PWD
if ! command -v aarch64-linux-gnu-g++ >/dev/null; then
  echo "prebuild-arm64: aarch64-linux-gnu-g++ not found (apt-get install g++-aarch64-linux-gnu); skipped" >&2
  exit 0
fi
tmp=$(mktemp -d /tmp/ebpf-sys-arm64.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/src"
cp binding.gyp package.json "$tmp/"
mkdir "$tmp/src/generated"
cp src/*.cc src/*.h "$tmp/src/"
cp src/generated/*.h "$tmp/src/generated/"
ln -s "$pkg/node_modules" "$tmp/node_modules"
(
  cd "$tmp"
  CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ \
    PREBUILD_STRIP_BIN=aarch64-linux-gnu-strip \
    npx --no-install prebuildify --napi --strip --arch arm64 >"$tmp/build.log" 2>&1
) || { cat "$tmp/build.log"; exit 1; }
mkdir -p prebuilds/linux-arm64
cp "$tmp/prebuilds/linux-arm64/@ebpf+sys.node" prebuilds/linux-arm64/
echo "prebuild-arm64: prebuilds/linux-arm64/@ebpf+sys.node"
