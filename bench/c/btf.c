/* C baseline of W8.btf (shared/BENCH.md): libbpf parsing the running kernel's BTF in a cold
 * process. `btf parse` runs 5 processes of `btf child`, each timing btf__parse of vmlinux and a
 * first btf__find_by_name_kind("task_struct") and measuring the resident memory the parse keeps;
 * it prints the best of the 5 of each figure. Links Debian's libbpf (-lbpf): the baseline here is
 * libbpf itself, not raw syscalls. */
/* common.h is shared by every baseline; this one needs only its clock and CHECK. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "common.h"

#include <bpf/btf.h>
#include <sys/wait.h>

#define PROCESSES 5
#define VMLINUX "/sys/kernel/btf/vmlinux"

static long resident_bytes(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  CHECK(f && fscanf(f, "%ld %ld", &pages, &resident) == 2, "read /proc/self/statm");
  fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

/* One cold measurement: "parse_ns lookup_ns retained_bytes" on stdout. */
static int child(void) {
  long before = resident_bytes();
  uint64_t t0 = now_ns();
  struct btf *btf = btf__parse(VMLINUX, NULL);
  uint64_t t1 = now_ns();
  CHECK(btf, "btf__parse(%s)", VMLINUX);
  int id = btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT);
  uint64_t t2 = now_ns();
  CHECK(id > 0, "btf__find_by_name_kind(task_struct)");
  printf("%llu %llu %ld\n", (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1), resident_bytes() - before);
  btf__free(btf);
  return 0;
}

static double best(const double *v, int n) {
  double b = v[0];
  for (int i = 1; i < n; i++)
    if (v[i] < b) b = v[i];
  return b;
}

/* Like emit() of common.h, but the figure is the best run: a cold start has no steady state. */
static void emit_best(const char *id, const char *unit, const double *runs, int n) {
  printf("{\"impl\":\"c\",\"layer\":\"c\",\"id\":\"%s\",\"unit\":\"%s\",\"ops\":1,\"runs\":[", id, unit);
  for (int i = 0; i < n; i++) printf("%s%.6g", i ? "," : "", runs[i]);
  printf("],\"median\":%.6g}\n", best(runs, n));
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "child") == 0) return child();
  CHECK(argc > 1 && strcmp(argv[1], "parse") == 0, "usage: btf parse");
  double total[PROCESSES], parse[PROCESSES], lookup[PROCESSES], retained[PROCESSES];
  for (int i = 0; i < PROCESSES; i++) {
    int out[2];
    CHECK(pipe(out) == 0, "pipe");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
      dup2(out[1], 1);
      execl("/proc/self/exe", argv[0], "child", (char *)NULL);
      _exit(127);
    }
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    unsigned long long p = 0, l = 0;
    long r = 0;
    CHECK(f && fscanf(f, "%llu %llu %ld", &p, &l, &r) == 3, "read child %d", i);
    fclose(f);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d", i);
    parse[i] = (double)p;
    lookup[i] = (double)l;
    total[i] = (double)(p + l);
    retained[i] = (double)r;
  }
  emit_best("W8.btf.parse_vmlinux", "ns/op", total, PROCESSES);
  emit_best("W8.btf.parse", "ns/op", parse, PROCESSES);
  emit_best("W8.btf.first_lookup", "ns/op", lookup, PROCESSES);
  emit_best("W8.btf.retained", "bytes", retained, PROCESSES);
  return 0;
}
