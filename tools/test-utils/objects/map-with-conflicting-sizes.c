// A map whose __type(key) and __uint(key_size) disagree: parsing must name the map and field.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4);
  __uint(key_size, 8);
  __type(key, __u32);
  __type(value, __u32);
} conflicting SEC(".maps");

SEC("xdp")
int uses_conflicting(struct xdp_md *ctx) {
  __u32 key = 0;
  return bpf_map_lookup_elem(&conflicting, &key) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
