// execsnoop: one ring buffer record per exec, from the sched_process_exec tracepoint.
// `pnpm gen` turns this object's BTF into src/generated/execsnoop.generated.ts.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define TASK_COMM_LEN 16
#define MAX_FILENAME_LEN 128

// The tracepoint's fields, as /sys/kernel/tracing/events/sched/sched_process_exec/format lists them.
struct sched_process_exec_args {
  __u64 common;
  __u32 filename_loc; // __data_loc: offset of the file name in the record (low 16 bits), its length (high 16)
  __s32 pid;
  __s32 old_pid;
};

struct event {
  __u64 timestamp_ns; // CLOCK_MONOTONIC (bpf_ktime_get_ns)
  __u32 pid;
  __u32 uid;
  __u32 gid;
  char comm[TASK_COMM_LEN];
  char filename[MAX_FILENAME_LEN];
};

// Marks `struct event` as a ring buffer record for `ebpf gen types` (clang keeps types of globals).
const struct event *unused_event __attribute__((unused));

// Execs seen since load; Node reads it as a typed variable.
__u64 exec_count = 0;

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int handle_exec(struct sched_process_exec_args *ctx) {
  __sync_fetch_and_add(&exec_count, 1);
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 0;
  __u64 uid_gid = bpf_get_current_uid_gid();
  e->timestamp_ns = bpf_ktime_get_ns();
  e->pid = ctx->pid;
  e->uid = (__u32)uid_gid;
  e->gid = uid_gid >> 32;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), (void *)ctx + (ctx->filename_loc & 0xffff));
  bpf_ringbuf_submit(e, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
