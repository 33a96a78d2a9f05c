// .ksyms externs that a kernel module would provide: a kfunc and a typed variable no vmlinux
// has. Tests resolve them against split BTF built on vmlinux, as a module's BTF is.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int ebpf_test_module_kfunc(int x) __ksym;
extern const int ebpf_test_module_counter __ksym;

SEC("tc")
int calls_module(struct __sk_buff *skb) {
  return ebpf_test_module_kfunc(skb->len) + (bpf_this_cpu_ptr(&ebpf_test_module_counter) != 0);
}

char LICENSE[] SEC("license") = "GPL";
