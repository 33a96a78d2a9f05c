// A program the verifier refuses (a packet read without a bounds check), so a loader's
// VerifierError can be checked to name the C source line of the failing instruction.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int reads_unchecked(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  return *(__u32 *)data; // the rejected read
}

char LICENSE[] SEC("license") = "GPL";
