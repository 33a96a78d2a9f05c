#!/usr/bin/env bash
# Makes a fresh Linux machine (root, Node 20, npm) ready to build, test and run ebpf-ts:
# Debian packages the tests need, pnpm, the workspace's dependencies, bpffs and tracefs.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v gcc >/dev/null || need+=(gcc)
command -v g++ >/dev/null || need+=(g++)
command -v make >/dev/null || need+=(make)
command -v python3 >/dev/null || need+=(python3)   # node-gyp builds @ebpf/sys with it
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)   # @ebpf/sys linux-arm64 prebuild
command -v objdump >/dev/null || need+=(binutils)
command -v clang >/dev/null || need+=(clang)
command -v clang-16 >/dev/null || need+=(clang-16)   # C test objects (BTF, CO-RE, ISA v4)
command -v bpftool >/dev/null || need+=(bpftool)     # the oracle for BTF dumps and loaded objects
command -v llvm-mc-16 >/dev/null || need+=(llvm-16)
command -v llvm-objdump >/dev/null || need+=(llvm)
[ -e /usr/include/bpf/libbpf.h ] || need+=(libbpf-dev)
[ -e /usr/include/linux/bpf.h ] || need+=(linux-libc-dev)
[ -e /usr/include/x86_64-linux-gnu/sys/sdt.h ] || [ -e /usr/include/sys/sdt.h ] || need+=(systemtap-sdt-dev)   # USDT probe fixtures
command -v ip >/dev/null || need+=(iproute2)
command -v ping >/dev/null || need+=(iputils-ping)
command -v sysctl >/dev/null || need+=(procps)
command -v script >/dev/null || need+=(bsdutils)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

command -v pnpm >/dev/null || npm install -g pnpm@10 >/dev/null
pnpm install --frozen-lockfile

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || echo "setup: could not mount bpffs at /sys/fs/bpf (pinning tests need it)"
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || echo "setup: could not mount tracefs at /sys/kernel/tracing"
mountpoint -q /sys/kernel/security || mount -t securityfs none /sys/kernel/security 2>/dev/null || echo "setup: could not mount securityfs at /sys/kernel/security (lockdown-aware errors need it)"
