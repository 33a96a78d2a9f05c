// Every C layout `ebpf gen types` describes: bitfields (signed, enum-typed, spanning bytes),
// a union, nested and anonymous structs, arrays, char[N] text, enums, typedefs, 64-bit and
// narrower integers, padding. `sample` holds values clang laid out; the program copies it to a
// ring buffer record and a hash map, keyed by a struct, and counts calls in a per-CPU array.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum color { RED, GREEN = 5, BLUE };
typedef unsigned int pid_type;

struct flags {
  __u8 small : 3, rest : 5;
  __u16 wide : 12;
  __s16 negative : 4;
  enum color tint : 4;
  __u64 big : 40;
};

union number {
  __u32 word;
  __u8 bytes[4];
};

struct event {
  pid_type pid;
  char comm[16];
  __u64 ts;
  struct flags flags;
  union number n;
  struct { __u16 x, y; } pos;
  __u32 values[3];
  enum color color;
  __s8 delta;
  /* 7 bytes of padding before `total` */
  __s64 total;
};

struct key {
  __u32 id;
  __u8 kind;
};

// Marks `struct event` as a record: clang keeps the types of globals in BTF.
const struct event *unused_event __attribute__((unused));

struct event sample = {
  .pid = 4242,
  .comm = "sample",
  .ts = 0x1122334455667788ULL,
  .flags = { .small = 5, .rest = 17, .wide = 0xabc, .negative = -2, .tint = BLUE, .big = 0xfedcba9876ULL },
  .n = { .word = 0x04030201 },
  .pos = { .x = 3, .y = 4 },
  .values = { 7, 8, 9 },
  .color = GREEN,
  .delta = -5,
  .total = -1234567890123LL,
};
const volatile __u64 limit = 99;
__u32 calls;

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 8);
  __type(key, struct key);
  __type(value, struct event);
} by_key SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} per_cpu SEC(".maps");

SEC("xdp")
int emit(struct xdp_md *ctx) {
  struct key k = { .id = 1, .kind = 2 };
  __u32 zero = 0;
  __u64 *count = bpf_map_lookup_elem(&per_cpu, &zero);
  if (count) *count += limit;
  calls++;
  bpf_map_update_elem(&by_key, &k, &sample, BPF_ANY);
  bpf_ringbuf_output(&events, &sample, sizeof(sample), 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
