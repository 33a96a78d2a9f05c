// .BTF.ext test object: two program sections and a static subprogram (func_info in each
// section), several source lines (line_info), and CO-RE reads of local flavour types with
// preserve_access_index (core_relo of several kinds), no vmlinux.h needed.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
  int pid;
  int tgid;
  unsigned int flags : 3;
  struct task_struct *parent;
} __attribute__((preserve_access_index));

struct task_struct___old {
  long state;
} __attribute__((preserve_access_index));

enum pid_type { PIDTYPE_PID, PIDTYPE_TGID };

static __attribute__((noinline)) int twice(int x) { return x * 2; }

SEC("tracepoint/syscalls/sys_enter_getpid")
int read_task(void *ctx) {
  struct task_struct *task = (void *)bpf_get_current_task();
  int ppid = BPF_CORE_READ(task, parent, tgid);
  if (bpf_core_field_exists(((struct task_struct___old *)task)->state))
    ppid += 1;
  ppid += bpf_core_type_size(struct task_struct);
  ppid += bpf_core_enum_value(enum pid_type, PIDTYPE_TGID);
  ppid += BPF_CORE_READ_BITFIELD_PROBED(task, flags);
  return twice(ppid);
}

SEC("xdp")
int pass_all(struct xdp_md *ctx) {
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
