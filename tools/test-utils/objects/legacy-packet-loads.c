// Legacy packet loads (BPF_LD | BPF_ABS and BPF_IND), which socket filters still use: clang
// emits them for LLVM's load_byte/half/word intrinsics.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

SEC("socket")
int reads_packet_bytes(struct __sk_buff *skb) {
  __u64 header = load_byte(skb, 14) & 0x0f;
  return load_half(skb, 12) + load_word(skb, header * 4 + 14) + load_byte(skb, skb->len - 1);
}

char LICENSE[] SEC("license") = "GPL";
