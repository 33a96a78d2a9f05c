// Static functions inside a program section are subprograms, not programs: only the global
// functions of a section are programs. libbpf 1.x refuses such an object ("is static and not
// supported"); static-subprograms-in-text.c builds the same code with the helpers in .text,
// which libbpf loads, so its instructions are the oracle for the linked programs here.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#ifndef HELPER_SECTION
#define HELPER_SECTION section("xdp")
#endif

static __attribute__((noinline, HELPER_SECTION)) int scaled(int x) { return x * 5; }

static __attribute__((noinline, HELPER_SECTION)) int offset_scaled(int x) { return scaled(x) + 7; }

SEC("xdp")
int static_caller(struct xdp_md *ctx) {
  return offset_scaled((int)(ctx->data_end - ctx->data)) == 327 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int second_caller(struct xdp_md *ctx) { return scaled(1) == 5 ? XDP_PASS : XDP_DROP; }

char LICENSE[] SEC("license") = "GPL";
