// Probe sections of libbpf's forms that auto-attach (a sleepable uprobe, a library by name, a
// ksyscall) beside bare ones that name nothing and are left for a manual attach.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u64 sleepable_hits = 0;

SEC("uprobe.s//proc/self/exe:uv_os_getppid")
int sleepable_getppid(void *ctx)
{
	__sync_fetch_and_add(&sleepable_hits, 1);
	return 0;
}

__u64 libc_hits = 0;

// A library by its bare name, found as libbpf finds it.
SEC("uretprobe/libc.so.6:getppid")
int libc_getppid(void *ctx)
{
	__sync_fetch_and_add(&libc_hits, 1);
	return 0;
}

SEC("ksyscall/getppid")
int syscall_getppid(void *ctx) { return 0; }

SEC("kprobe")
int manual_kprobe(void *ctx) { return 0; }

SEC("raw_tp")
int manual_raw_tp(void *ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
