// Maps whose keys and values BTF describes with every shape a dump decodes by name: structs
// with nested arrays, char arrays, enums, bitfields and a union, signed and unsigned ints, a
// per-CPU value, and global data (a datasec value). The program fills them on one test run.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum colour { RED = 1, GREEN = 2, BLUE = 4 };

struct flow {
  __u32 addr;
  __u16 port;
  __u8 proto;
};

struct stats {
  char comm[8];
  __s32 delta;
  __u64 bytes;
  __u16 samples[3];
  enum colour colour;
  unsigned int low : 3, high : 5;
  union {
    __u32 word;
    __u8 octets[4];
  } raw;
  struct flow last;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8);
  __type(key, struct flow);
  __type(value, struct stats);
} flows SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, __s64);
} per_cpu_totals SEC(".maps");

int runs = 0;
const volatile char label[6] = "typed";

SEC("xdp")
int fill_typed_maps(struct xdp_md *ctx) {
  struct flow key = {.addr = 0x0100007f, .port = 8080, .proto = 6};
  struct stats value = {
      .comm = "curl",
      .delta = -7,
      .bytes = 1ULL << 40,
      .samples = {1, 2, 3},
      .colour = GREEN,
      .low = 5,
      .high = 17,
      .raw = {.word = 0x04030201},
      .last = {.addr = 0x0200000a, .port = 53, .proto = 17},
  };
  __u32 slot = 1;
  __s64 *total;

  bpf_map_update_elem(&flows, &key, &value, BPF_ANY);
  total = bpf_map_lookup_elem(&per_cpu_totals, &slot);
  if (total)
    *total -= 3;
  runs += label[0];
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
