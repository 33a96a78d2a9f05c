// Problems confined to one program: one in a section libbpf knows no program type for, one
// using an extern declared neither __kconfig nor __ksym. The object still parses and
// good_program stays usable.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int undeclared_extern;

SEC("xdp")
int good_program(struct xdp_md *ctx) { return XDP_PASS; }

SEC("not_a_program_type")
int in_unknown_section(void *ctx) { return 0; }

SEC("socket")
int uses_undeclared_extern(struct __sk_buff *skb) { return undeclared_extern; }

char LICENSE[] SEC("license") = "GPL";
