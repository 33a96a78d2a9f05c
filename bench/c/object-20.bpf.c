// The object of the `object` bench workload: 20 socket filters sharing a map, a global and a
// subprogram, as a typical clang-built object has them. Built with clang -O2 -g -target bpf.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 20);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

const volatile __u32 step = 1;

static __attribute__((noinline)) int add_step(int x) { return x + step; }

SEC("socket")
int prog_00(struct __sk_buff *skb) {
  __u32 key = 0;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 0;
}

SEC("socket")
int prog_01(struct __sk_buff *skb) {
  __u32 key = 1;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 1;
}

SEC("socket")
int prog_02(struct __sk_buff *skb) {
  __u32 key = 2;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 2;
}

SEC("socket")
int prog_03(struct __sk_buff *skb) {
  __u32 key = 3;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 3;
}

SEC("socket")
int prog_04(struct __sk_buff *skb) {
  __u32 key = 4;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 4;
}

SEC("socket")
int prog_05(struct __sk_buff *skb) {
  __u32 key = 5;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 5;
}

SEC("socket")
int prog_06(struct __sk_buff *skb) {
  __u32 key = 6;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 6;
}

SEC("socket")
int prog_07(struct __sk_buff *skb) {
  __u32 key = 7;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 7;
}

SEC("socket")
int prog_08(struct __sk_buff *skb) {
  __u32 key = 8;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 8;
}

SEC("socket")
int prog_09(struct __sk_buff *skb) {
  __u32 key = 9;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 9;
}

SEC("socket")
int prog_10(struct __sk_buff *skb) {
  __u32 key = 10;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 10;
}

SEC("socket")
int prog_11(struct __sk_buff *skb) {
  __u32 key = 11;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 11;
}

SEC("socket")
int prog_12(struct __sk_buff *skb) {
  __u32 key = 12;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 12;
}

SEC("socket")
int prog_13(struct __sk_buff *skb) {
  __u32 key = 13;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 13;
}

SEC("socket")
int prog_14(struct __sk_buff *skb) {
  __u32 key = 14;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 14;
}

SEC("socket")
int prog_15(struct __sk_buff *skb) {
  __u32 key = 15;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 15;
}

SEC("socket")
int prog_16(struct __sk_buff *skb) {
  __u32 key = 16;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 16;
}

SEC("socket")
int prog_17(struct __sk_buff *skb) {
  __u32 key = 17;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 17;
}

SEC("socket")
int prog_18(struct __sk_buff *skb) {
  __u32 key = 18;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 18;
}

SEC("socket")
int prog_19(struct __sk_buff *skb) {
  __u32 key = 19;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) __sync_fetch_and_add(value, skb->len + step);
  return add_step(skb->len) & 19;
}

char LICENSE[] SEC("license") = "GPL";
