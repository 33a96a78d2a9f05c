// Programs that attach from their section names (libbpf's auto-attach), each counting into a
// global, beside ones that need an option (xdp: an interface) or attach elsewhere (socket, a
// devmap entry).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 tracepoint_hits = 0;
__u64 raw_tracepoint_hits = 0;

SEC("tp/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	__sync_fetch_and_add(&tracepoint_hits, 1);
	return 0;
}

SEC("raw_tp/sys_enter")
int on_sys_enter(void *ctx)
{
	__sync_fetch_and_add(&raw_tracepoint_hits, 1);
	return 0;
}

SEC("xdp")
int pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

// Runs from devmap entries, not on an interface: attachAll leaves it alone.
SEC("xdp/devmap")
int devmap_entry(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("socket")
int keep(struct __sk_buff *skb)
{
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
