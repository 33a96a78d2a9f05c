// Counts the hits of kernel tracepoints. One program is attached to each tracepoint with the
// tracepoint's tracefs id as its cookie, and counts under that id in a per-CPU hash (no atomics,
// no contention between CPUs); Node sums the CPUs when Prometheus scrapes. The map is pinned by
// name, so an exporter that restarts (a pod rolled out again) carries on from the counts before.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, 1024);
  __uint(pinning, LIBBPF_PIN_BY_NAME);
  __type(key, __u32);   // the tracepoint's id in tracefs
  __type(value, __u64); // hits on this CPU
} tracepoint_hits SEC(".maps");

SEC("tracepoint")
int count_hit(void *ctx) {
  __u32 id = bpf_get_attach_cookie(ctx);
  __u64 *hits = bpf_map_lookup_elem(&tracepoint_hits, &id);
  if (!hits) {
    // The first hit of this tracepoint: insert a zero (or lose the race to a CPU that did).
    __u64 zero = 0;
    bpf_map_update_elem(&tracepoint_hits, &id, &zero, BPF_NOEXIST);
    hits = bpf_map_lookup_elem(&tracepoint_hits, &id);
    if (!hits)
      return 0;
  }
  (*hits)++;
  return 0;
}
