// A program whose global function an freplace (ext) program can replace: the verifier checks
// global functions on their own, so their BTF prototype is what a replacement must match.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__attribute__((noinline)) int replaceable(int x) { return x + 1; }

SEC("tc")
int calls_replaceable(struct __sk_buff *skb) { return replaceable(1); }

char LICENSE[] SEC("license") = "GPL";
