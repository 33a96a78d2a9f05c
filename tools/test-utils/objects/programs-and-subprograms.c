// Programs and subprograms the way libbpf links them: two programs in one section, a static
// and a global subprogram in .text shared by both, nested calls, and a bpf_loop callback
// (an ldimm64 BPF_PSEUDO_FUNC). Every program here loads with libbpf, so its final
// instructions are the oracle for ours.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} hits SEC(".maps");

static __attribute__((noinline)) int double_it(int x) { return x * 2; }

static __attribute__((noinline)) int add_three(int x) { return double_it(x) - x + 3; }

__attribute__((noinline)) int global_square(int x) { return x * x; }

static long count_step(__u32 index, void *ctx) {
  int *sum = ctx;
  *sum += index;
  return 0;
}

static __attribute__((noinline)) void bump(__u32 key) {
  __u64 *value = bpf_map_lookup_elem(&hits, &key);
  if (value) __sync_fetch_and_add(value, 1);
}

SEC("xdp")
int first_xdp(struct xdp_md *ctx) {
  bump(0);
  return add_three(ctx->ingress_ifindex) > 100 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int second_xdp(struct xdp_md *ctx) {
  int sum = 0;
  bpf_loop(4, count_step, &sum, 0);
  bump(1);
  return global_square(sum) == 36 ? XDP_PASS : XDP_DROP;
}

SEC("socket")
int socket_calls_all(struct __sk_buff *skb) {
  int sum = 0;
  bpf_loop(3, count_step, &sum, 0);
  return double_it(skb->len) + global_square(sum) + add_three(1);
}

SEC("?tc")
int not_autoloaded(struct __sk_buff *skb) { return double_it(0); }

char LICENSE[] SEC("license") = "Dual MIT/GPL";
