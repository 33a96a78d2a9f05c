// Legacy map definitions (struct bpf_map_def in SEC("maps")) and a version section, as
// iproute2-era objects have them; libbpf 1.0 refuses them, cilium/ebpf and we still read them.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
  unsigned int type;
  unsigned int key_size;
  unsigned int value_size;
  unsigned int max_entries;
  unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_hash = {
    .type = BPF_MAP_TYPE_HASH,
    .key_size = 4,
    .value_size = 8,
    .max_entries = 16,
    .map_flags = BPF_F_NO_PREALLOC,
};

struct bpf_map_def SEC("maps") legacy_array = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = 4,
    .value_size = 4,
    .max_entries = 2,
};

SEC("socket")
int uses_legacy_maps(struct __sk_buff *skb) {
  __u32 key = 0;
  bpf_map_lookup_elem(&legacy_hash, &key);
  return bpf_map_lookup_elem(&legacy_array, &key) != 0;
}

char LICENSE[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x060c00;
