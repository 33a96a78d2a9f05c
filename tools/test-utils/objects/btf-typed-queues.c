// A queue and a stack whose values BTF describes. The kernel keeps no BTF for maps without keys,
// so `ebpf map dump` finds their value types in the BTF of the program that uses them; the hash
// map holds the same job, typed by its own BTF, for bpftool to decode beside. One test run fills
// all three.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum state { IDLE = 0, BUSY = 3 };

struct job {
  char name[8];
  __u32 id;
  enum state state;
  __s64 due;
};

struct {
  __uint(type, BPF_MAP_TYPE_QUEUE);
  __uint(max_entries, 4);
  __type(value, struct job);
} jobs SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_STACK);
  __uint(max_entries, 4);
  __type(value, __s32);
} depths SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, struct job);
} jobs_by_id SEC(".maps");

SEC("xdp")
int fill_queues(struct xdp_md *ctx) {
  struct job job = {.name = "build", .id = 7, .state = BUSY, .due = -5};
  __s32 depth = -2;
  bpf_map_push_elem(&jobs, &job, 0);
  bpf_map_push_elem(&depths, &depth, 0);
  bpf_map_update_elem(&jobs_by_id, &job.id, &job, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
