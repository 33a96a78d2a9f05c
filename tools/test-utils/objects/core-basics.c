// CO-RE relocations of every kind against the running kernel's types, for the libbpf oracle:
// libbpf and our engine relocate this object and must produce the same instructions.
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

// A local flavour: matches the kernel's task_struct by essential name, fields by name.
struct task_struct___flavour {
  int pid;
  int tgid;
  void *stack;
} __attribute__((preserve_access_index));

// A field the kernel's task_struct does not have, and a type the kernel does not have at all.
struct task_struct___missing {
  int no_such_field_anywhere;
} __attribute__((preserve_access_index));

struct type_nowhere_in_the_kernel {
  int x;
} __attribute__((preserve_access_index));

enum bpf_map_type___local { BPF_MAP_TYPE_HASH___local = 1, BPF_MAP_TYPE_NOT_IN_KERNEL___local = 1000 };
// 64-bit enumerators are read with lddw; a local flavour may hold a different (here 32-bit) value.
enum perf_callchain_context___local { PERF_CONTEXT_USER___local = 5 };
enum wide___nowhere { WIDE_NOWHERE = 0x100000000ULL };

long sink;

// A local view of the context: fields moved and narrowed. Loads from it are CO-RE relocated
// (offset and, for the unsigned len, width); the signed one cannot widen and is poisoned.
struct __sk_buff___local {
  __u16 len;
  __u32 mark;
  __s16 queue_mapping;
} __attribute__((preserve_access_index));

SEC("raw_tp/sys_enter")
int fields(void *ctx) {
  struct task_struct *task = (void *)bpf_get_current_task();
  sink = BPF_CORE_READ(task, pid);
  sink += BPF_CORE_READ(task, real_parent, tgid);
  sink += BPF_CORE_READ(task, mm, mmap_base);
  sink += bpf_core_field_size(task->comm);
  sink += bpf_core_field_offset(task->comm[3]);
  sink += bpf_core_field_exists(task->pid);
  sink += bpf_core_field_exists(((struct task_struct___missing *)task)->no_such_field_anywhere);
  sink += BPF_CORE_READ((struct task_struct___flavour *)task, tgid);
  sink += bpf_core_field_offset(((struct task_struct___flavour *)task)->stack);
  return 0;
}

SEC("raw_tp/sys_enter")
int bitfields(void *ctx) {
  struct task_struct *task = (void *)bpf_get_current_task();
  sink = BPF_CORE_READ_BITFIELD_PROBED(task, in_execve);
  sink += BPF_CORE_READ_BITFIELD_PROBED(task, sched_reset_on_fork);
  sink += __builtin_preserve_field_info(task->prio, BPF_FIELD_SIGNED);
  sink += __builtin_preserve_field_info(task->flags, BPF_FIELD_SIGNED);
  return 0;
}

SEC("raw_tp/sys_enter")
int types(void *ctx) {
  sink = bpf_core_type_exists(struct task_struct);
  sink += bpf_core_type_exists(struct type_nowhere_in_the_kernel);
  sink += bpf_core_type_size(struct task_struct);
  sink += bpf_core_type_size(struct type_nowhere_in_the_kernel);
  sink += bpf_core_type_matches(struct task_struct___flavour);
  sink += bpf_core_type_matches(struct list_head);
  sink += bpf_core_type_id_kernel(struct task_struct);
  sink += bpf_core_type_id_local(struct task_struct);
  return 0;
}

SEC("raw_tp/sys_enter")
int enums(void *ctx) {
  sink = bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
  sink += bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_RINGBUF);
  sink += bpf_core_enum_value_exists(enum bpf_map_type___local, BPF_MAP_TYPE_NOT_IN_KERNEL___local);
  sink += bpf_core_enum_value(enum bpf_map_type___local, BPF_MAP_TYPE_HASH___local);
  sink += bpf_core_enum_value(enum perf_callchain_context, PERF_CONTEXT_KERNEL);
  sink += bpf_core_enum_value(enum perf_callchain_context___local, PERF_CONTEXT_USER___local);
  return 0;
}

// Unresolvable relocations behind existence checks: poisoned, and dead code for the verifier.
SEC("raw_tp/sys_enter")
int poisoned(void *ctx) {
  struct task_struct___missing *task = (void *)bpf_get_current_task();
  if (bpf_core_field_exists(task->no_such_field_anywhere))
    sink = BPF_CORE_READ(task, no_such_field_anywhere);
  if (bpf_core_enum_value_exists(enum bpf_map_type___local, BPF_MAP_TYPE_NOT_IN_KERNEL___local))
    sink = bpf_core_enum_value(enum bpf_map_type___local, BPF_MAP_TYPE_NOT_IN_KERNEL___local);
  if (bpf_core_type_exists(struct type_nowhere_in_the_kernel))
    sink = BPF_CORE_READ((struct type_nowhere_in_the_kernel *)task, x);
  if (bpf_core_enum_value_exists(enum wide___nowhere, WIDE_NOWHERE))
    sink = bpf_core_enum_value(enum wide___nowhere, WIDE_NOWHERE);
  return 0;
}

SEC("tc")
int context(struct __sk_buff *skb) {
  struct __sk_buff___local *local = (void *)skb;
  long sum = local->len + local->mark;
  if (bpf_core_type_exists(struct type_nowhere_in_the_kernel))
    sum += local->queue_mapping;
  return sum;
}

// A flat local view of sk_buff (the kernel nests dev two anonymous levels deep), a flavour whose
// field has an incompatible type (so no candidate), typedefs, and the other bitfield kinds.
struct sk_buff___flat {
  struct net_device *dev;
  unsigned int len;
} __attribute__((preserve_access_index));

struct task_struct___wrongtype {
  struct list_head pid;
} __attribute__((preserve_access_index));

typedef long pid_t___local;

SEC("raw_tp/sys_enter")
int more(void *ctx) {
  struct sk_buff *skb = (void *)bpf_get_current_task();
  struct task_struct *task = (void *)skb;
  sink = BPF_CORE_READ(skb, dev, ifindex);
  sink += BPF_CORE_READ((struct sk_buff___flat *)skb, dev, ifindex);
  sink += bpf_core_field_offset(((struct sk_buff___flat *)skb)->len);
  sink += bpf_core_field_exists(((struct task_struct___wrongtype *)skb)->pid);
  sink += bpf_core_type_exists(pid_t);
  sink += bpf_core_type_size(pid_t);
  sink += bpf_core_type_matches(pid_t);
  sink += bpf_core_type_exists(pid_t___local);
  sink += bpf_core_type_matches(pid_t___local);
  sink += bpf_core_type_matches(struct sk_buff___flat);
  sink += bpf_core_type_id_kernel(u64);
  sink += __builtin_preserve_field_info(task->in_execve, BPF_FIELD_BYTE_SIZE);
  sink += __builtin_preserve_field_info(task->in_execve, BPF_FIELD_SIGNED);
  sink += __builtin_preserve_field_info(task->in_execve, BPF_FIELD_RSHIFT_U64);
  return 0;
}
