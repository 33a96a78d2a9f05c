// Calls libbpf refuses but the kernel accepts once linked: a program calling a global function
// of another program section, and a static function in the caller's own section.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
__attribute__((noinline)) int callee_program(struct __sk_buff *skb) { return skb->len + 1; }

static __attribute__((noinline, section("socket"))) int same_section_helper(int x) {
  return x * 3;
}

SEC("socket")
int caller_program(struct __sk_buff *skb) {
  return callee_program(skb) + same_section_helper(skb->protocol);
}

char LICENSE[] SEC("license") = "GPL";
