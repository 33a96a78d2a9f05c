// A USDT handler through libbpf's usdt.bpf.h: its __weak __hidden helpers (loaded with static
// BTF linkage, as libbpf does), its __weak spec maps, and the LINUX_HAS_BPF_COOKIE kconfig
// extern libbpf makes up.
#define __TARGET_ARCH_x86
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

long last_sum = 0;

SEC("usdt")
int sum_args(struct pt_regs *ctx)
{
	long value, sum = bpf_usdt_cookie(ctx);

	for (int i = 0; i < bpf_usdt_arg_cnt(ctx) && i < 4; i++)
		if (bpf_usdt_arg(ctx, i, &value) == 0)
			sum += value;
	last_sum = sum;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
