// A syscall program draining the user ring pinned by the test: sums each record's first u64 and
// counts the records, into its context (which BPF_PROG_TEST_RUN copies back).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_USER_RINGBUF);
	__uint(max_entries, 4096);
} user_ring SEC(".maps");

struct totals {
	__u64 sum;
	__u64 count;
	__s64 drained;
};

static long add_record(struct bpf_dynptr *record, void *ctx)
{
	struct totals *t = ctx;
	__u64 value = 0;

	if (bpf_dynptr_read(&value, sizeof(value), record, 0, 0))
		return 1;
	t->sum += value;
	t->count++;
	return 0;
}

SEC("syscall")
int drain(struct totals *out)
{
	struct totals t = {};

	t.drained = bpf_user_ringbuf_drain(&user_ring, add_record, &t, 0);
	out->sum = t.sum;
	out->count = t.count;
	out->drained = t.drained;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
