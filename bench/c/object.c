// The C baseline of the `object` workload: libbpf opens the 20-program object from memory and
// loads it (bpf_object__open_mem + bpf_object__load), LOADS_PER_RUN times per run. Each program
// is loaded with log_level 4 (BPF_LOG_STATS) so the verifier's own time can be taken out.
// Usage: object FILE.o
#include <bpf/libbpf.h>

#include "common.h"

#define LOADS_PER_RUN 10
#define LOG_SIZE 4096

static char logs[64][LOG_SIZE];

static int quiet(enum libbpf_print_level level, const char *format, va_list args) {
  (void)level;
  (void)format;
  (void)args;
  return 0;
}

/** Open and load once; returns the sum of the verifier's reported times in ns. */
static double load_once(const void *bytes, size_t size, uint64_t *elapsed) {
  uint64_t t0 = now_ns();
  struct bpf_object *obj = bpf_object__open_mem(bytes, size, NULL);
  CHECK(obj != NULL, "bpf_object__open_mem: %s", strerror(errno));
  struct bpf_program *prog;
  int i = 0;
  bpf_object__for_each_program(prog, obj) {
    CHECK(i < 64, "too many programs");
    logs[i][0] = 0;
    bpf_program__set_log_buf(prog, logs[i], LOG_SIZE);
    bpf_program__set_log_level(prog, 4);
    i++;
  }
  CHECK(bpf_object__load(obj) == 0, "bpf_object__load: %s", strerror(errno));
  uint64_t t1 = now_ns();
  *elapsed = t1 - t0;
  double verifier = 0;
  for (int p = 0; p < i; p++) {
    const char *at = strstr(logs[p], "verification time ");
    CHECK(at != NULL, "no verification time in the log of program %d", p);
    verifier += strtod(at + strlen("verification time "), NULL) * 1000.0;
  }
  bpf_object__close(obj);
  return verifier;
}

int main(int argc, char **argv) {
  CHECK(argc == 2, "usage: object FILE.o");
  libbpf_set_print(quiet);
  FILE *f = fopen(argv[1], "rb");
  CHECK(f != NULL, "cannot open %s", argv[1]);
  static unsigned char bytes[1 << 20];
  size_t size = fread(bytes, 1, sizeof(bytes), f);
  fclose(f);
  double total[TIMED_RUNS], net[TIMED_RUNS];
  for (int r = 0; r < WARMUP_RUNS + TIMED_RUNS; r++) {
    double t[LOADS_PER_RUN], n[LOADS_PER_RUN];
    for (int i = 0; i < LOADS_PER_RUN; i++) {
      uint64_t elapsed;
      double verifier = load_once(bytes, size, &elapsed);
      t[i] = (double)elapsed;
      n[i] = (double)elapsed - verifier;
    }
    if (r < WARMUP_RUNS) continue;
    total[r - WARMUP_RUNS] = median_of(t, LOADS_PER_RUN);
    net[r - WARMUP_RUNS] = median_of(n, LOADS_PER_RUN);
  }
  emit("object.20_progs.load", "ns/op", LOADS_PER_RUN, total, TIMED_RUNS);
  emit("object.20_progs.minus_verifier", "ns/op", LOADS_PER_RUN, net, TIMED_RUNS);
  return 0;
}
