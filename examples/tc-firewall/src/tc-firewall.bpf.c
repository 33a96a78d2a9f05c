// A firewall on an interface's tcx hook: IPv4 packets whose source address matches a prefix of
// the `blocked` LPM trie are dropped, everything else goes on to the next program (or passes).
// Node adds and removes the prefixes; every packet is counted under its verdict.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

// The tcx return codes have the values of the tc actions (the uapi names TCX_NEXT, TCX_DROP
// are newer than some distributions' headers).
#define TCX_NEXT TC_ACT_UNSPEC
#define TCX_DROP TC_ACT_SHOT

// struct bpf_lpm_trie_key_u8 for IPv4: a prefix length, then the address in network order.
struct ipv4_prefix {
  __u32 prefixlen;
  __be32 addr;
};

// Verdicts, the keys of `verdicts`.
enum verdict { VERDICT_PASS, VERDICT_DROP, VERDICT_COUNT };

struct traffic {
  __u64 packets;
  __u64 bytes;
};

// Blocked source prefixes; the value counts the packets each one dropped.
struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 4096);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct ipv4_prefix);
  __type(value, __u64);
} blocked SEC(".maps");

// Packets and bytes per verdict, per CPU (no atomics on the hot path).
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, VERDICT_COUNT);
  __type(key, __u32);
  __type(value, struct traffic);
} verdicts SEC(".maps");

// The drop counter of the prefix that blocks the packet's source, or NULL.
static __u64 *blocking_prefix(struct __sk_buff *skb) {
  void *data = (void *)(long)skb->data;
  void *end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
    return NULL;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > end)
    return NULL;
  struct ipv4_prefix key = {.prefixlen = 32, .addr = ip->saddr};
  return bpf_map_lookup_elem(&blocked, &key);
}

SEC("tcx/ingress")
int firewall(struct __sk_buff *skb) {
  __u64 *drops = blocking_prefix(skb);
  if (drops)
    __sync_fetch_and_add(drops, 1);

  __u32 verdict = drops ? VERDICT_DROP : VERDICT_PASS;
  struct traffic *traffic = bpf_map_lookup_elem(&verdicts, &verdict);
  if (traffic) {
    traffic->packets++;
    traffic->bytes += skb->len;
  }
  return drops ? TCX_DROP : TCX_NEXT;
}
