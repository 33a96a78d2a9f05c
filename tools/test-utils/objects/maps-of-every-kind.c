// BTF-defined maps of every shape libbpf reads: key/value as types or sizes, per-CPU and LRU
// maps, ring and perf buffers (perf with max_entries 0: one slot per CPU), a bloom filter
// with map_extra, flags and pinning, a prog array filled with tail-call targets and maps of
// maps with __array inner templates and static initialisers.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair {
  __u32 a;
  __u16 b;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 128);
  __type(key, struct pair);
  __type(value, __u64);
  __uint(map_flags, BPF_F_NO_PREALLOC);
} by_pair SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(key_size, 4);
  __uint(value_size, 16);
  __uint(max_entries, 2);
} sized_only SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 3);
  __type(key, __u32);
  __type(value, __u64);
} per_cpu_counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u32);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
} recent_lru SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
  __uint(max_entries, 32);
  __type(key, __u64);
  __type(value, __u32);
} recent_per_cpu SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
  __uint(max_entries, 16);
  __type(value, __u32);
  __uint(map_extra, 3);
} seen SEC(".maps");

struct inner_array {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} inner_one SEC(".maps"), inner_two SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 4);
  __type(key, __u32);
  __array(values, struct inner_array);
} outer_array SEC(".maps") = {
    .values = {[0] = &inner_one, [2] = &inner_two},
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
  __uint(max_entries, 8);
  __type(key, __u32);
  __array(values, struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
  });
} outer_hash SEC(".maps");

int tail_target(struct __sk_buff *skb);

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 2);
  __uint(key_size, sizeof(__u32));
  __array(values, int(void *));
} jump_table SEC(".maps") = {
    .values = {[1] = (void *)&tail_target},
};

SEC("socket")
int tail_target(struct __sk_buff *skb) { return 7; }

SEC("socket")
int uses_every_map(struct __sk_buff *skb) {
  struct pair p = {.a = 1, .b = 2};
  __u32 key = 0, value = 1;
  __u64 big = 0;
  bpf_map_lookup_elem(&by_pair, &p);
  bpf_map_lookup_elem(&sized_only, &key);
  bpf_map_lookup_elem(&per_cpu_counts, &key);
  bpf_map_update_elem(&recent_lru, &key, &value, BPF_ANY);
  bpf_map_lookup_elem(&recent_per_cpu, &big);
  bpf_ringbuf_output(&events, &value, sizeof(value), 0);
  bpf_perf_event_output(skb, &perf_events, BPF_F_CURRENT_CPU, &value, sizeof(value));
  bpf_map_push_elem(&seen, &value, 0);
  bpf_map_lookup_elem(&outer_array, &key);
  bpf_map_lookup_elem(&outer_hash, &key);
  bpf_tail_call(skb, &jump_table, 1);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
