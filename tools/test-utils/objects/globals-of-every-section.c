// Global data of every section kind libbpf turns into maps: .data, .bss, .rodata (const
// volatile configuration), named .data.* and .rodata.* sections, string literals
// (.rodata.str1.1, no BTF) and static variables, read and written by one program.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int counter = 5;
__u64 total;
const volatile __u32 threshold = 10;
const volatile __s16 offset_by = -3;
const volatile _Bool enabled = 1;
__u8 scratch[12] SEC(".data.scratch") = {1, 2, 3};
const volatile char greeting[6] SEC(".rodata.strings") = "hello";
static int hidden_static = 9;
static __u64 static_bss;

SEC("xdp")
int reads_globals(struct xdp_md *ctx) {
  static const char fmt[] = "counter %d";
  bpf_trace_printk(fmt, sizeof(fmt), counter);
  bpf_trace_printk("literal %d", sizeof("literal %d"), counter);
  total += threshold + offset_by + hidden_static + greeting[1];
  static_bss++;
  scratch[0] = enabled;
  counter++;
  return total > 100 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
