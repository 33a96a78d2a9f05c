// USDT handlers through libbpf's usdt.bpf.h: each run records the argument count and values
// it reads, and how often it ran, in slot bpf_usdt_cookie() of `seen` (the test gives every
// attach its own cookie). `auto_registers` and `sleepable_guarded` attach from their sections:
// PROBES is the path of the traced binary, given with -DPROBES='"..."' when the test builds this.
#define __TARGET_ARCH_x86
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

struct seen {
	__s64 count;
	__s64 args[4];
	__u64 hits;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct seen);
} seen SEC(".maps");

static __always_inline void record(struct pt_regs *ctx, __u32 slot)
{
	struct seen *s = bpf_map_lookup_elem(&seen, &slot);
	long value;

	if (!s)
		return;
	s->count = bpf_usdt_arg_cnt(ctx);
	for (int i = 0; i < 4; i++) {
		value = 0;
		bpf_usdt_arg(ctx, i, &value);
		s->args[i] = value;
	}
	__sync_fetch_and_add(&s->hits, 1);
}

SEC("usdt")
int any_probe(struct pt_regs *ctx)
{
	record(ctx, bpf_usdt_cookie(ctx));
	return 0;
}

#ifdef PROBES
// Slot 7: what the section-attached program saw.
SEC("usdt/" PROBES ":test:registers")
int BPF_USDT(auto_registers, int word, long wide, int byte)
{
	record(ctx, 7);
	return 0;
}

// Slot 6: the sleepable form attaches the same way.
SEC("usdt.s/" PROBES ":test:guarded")
int BPF_USDT(sleepable_guarded, int value)
{
	record(ctx, 6);
	return 0;
}
#endif

char LICENSE[] SEC("license") = "GPL";
