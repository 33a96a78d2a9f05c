// .kconfig externs of every kind libbpf fills (kernel version, bool, int and string options,
// weak ones the kernel lacks) and .ksyms externs: kfuncs, a weak kernel variable the kernel
// lacks, and (in its own program, since this kernel's kallsyms lists no variables) a typed
// per-CPU kernel variable.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig;
extern int CONFIG_HZ __kconfig __weak;
extern char CONFIG_DEFAULT_HOSTNAME[8] __kconfig __weak;
extern _Bool CONFIG_NOT_A_REAL_OPTION __kconfig __weak;
extern const int bpf_prog_active __ksym;
extern const int not_a_kernel_symbol __ksym __weak;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

SEC("tp_btf/sys_enter")
int reads_kconfig(void *ctx) {
  bpf_rcu_read_lock();
  bpf_rcu_read_unlock();
  if (&not_a_kernel_symbol) return 1;
  return LINUX_KERNEL_VERSION + CONFIG_BPF_SYSCALL + CONFIG_HZ + CONFIG_DEFAULT_HOSTNAME[0] +
         CONFIG_NOT_A_REAL_OPTION;
}

SEC("tp_btf/sys_enter")
int reads_typed_ksym(void *ctx) { return bpf_this_cpu_ptr(&bpf_prog_active) != 0; }

char LICENSE[] SEC("license") = "GPL";
