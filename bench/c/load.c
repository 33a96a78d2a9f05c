/* The C baseline for program load time and for the memory of a process holding many objects.
 *   load [FILE]  loads a socket filter of 1,000 instructions (the raw bytes in FILE, or the
 *                same program built here: r0 = 0; 998 x r0 += 1; exit) with log_level 4
 *                (BPF_LOG_STATS), 20 loads per run; prints per run the median load time, the
 *                median verifier time (its "verification time" log line) and the median
 *                of load time less verifier time.
 *   hold N       creates N hash maps and N programs, then prints its resident memory. */
#include "common.h"

#define LOG_STATS 4
#define LOADS_PER_RUN 20

static struct bpf_insn *read_or_build(const char *file, uint32_t *cnt) {
  static struct bpf_insn built[1000];
  if (!file) {
    built[0] = insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0);
    for (int i = 1; i < 999; i++) built[i] = insn(BPF_ALU64 | BPF_ADD | BPF_K, 0, 0, 0, 1);
    built[999] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    *cnt = 1000;
    return built;
  }
  FILE *f = fopen(file, "rb");
  CHECK(f != NULL, "open %s", file);
  static struct bpf_insn buf[1 << 16];
  size_t n = fread(buf, sizeof(struct bpf_insn), 1 << 16, f);
  fclose(f);
  CHECK(n > 0, "read %s", file);
  *cnt = (uint32_t)n;
  return buf;
}

/* The verifier's own time, in ns, from the "verification time N usec" line of a stats log. */
static double verifier_ns(const char *log) {
  const char *p = strstr(log, "verification time ");
  CHECK(p != NULL, "no verification time in log: %s", log);
  return atof(p + strlen("verification time ")) * 1000.0;
}

static void load(const char *file) {
  uint32_t cnt;
  struct bpf_insn *prog = read_or_build(file, &cnt);
  static char log[1 << 16];
  double total[TIMED_RUNS], net[TIMED_RUNS], ver[TIMED_RUNS];
  for (int run = 0; run < WARMUP_RUNS + TIMED_RUNS; run++) {
    double t_each[LOADS_PER_RUN], v_each[LOADS_PER_RUN], n_each[LOADS_PER_RUN];
    for (int i = 0; i < LOADS_PER_RUN; i++) {
      log[0] = 0;
      uint64_t t0 = now_ns();
      int fd = prog_load(BPF_PROG_TYPE_SOCKET_FILTER, prog, cnt, log, sizeof log, LOG_STATS);
      uint64_t t1 = now_ns();
      CHECK(fd >= 0, "load: %s", log);
      close(fd);
      t_each[i] = (double)(t1 - t0);
      v_each[i] = verifier_ns(log);
      n_each[i] = t_each[i] - v_each[i];
    }
    /* Per run, the median load: one load preempted by other work does not move it. */
    int t = run - WARMUP_RUNS;
    if (t < 0) continue;
    total[t] = median_of(t_each, LOADS_PER_RUN);
    ver[t] = median_of(v_each, LOADS_PER_RUN);
    net[t] = median_of(n_each, LOADS_PER_RUN);
  }
  emit("load.1000_insns", "ns/op", LOADS_PER_RUN, total, TIMED_RUNS);
  emit("load.1000_insns.verifier", "ns/op", LOADS_PER_RUN, ver, TIMED_RUNS);
  emit("load.1000_insns.minus_verifier", "ns/op", LOADS_PER_RUN, net, TIMED_RUNS);
}

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  CHECK(f != NULL, "open /proc/self/status");
  char line[256];
  long kib = -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, "VmRSS:", 6)) kib = atol(line + 6);
  fclose(f);
  return kib;
}

static void hold(int n) {
  struct bpf_insn prog[] = {
      insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
  };
  for (int i = 0; i < n; i++) {
    CHECK(map_create(BPF_MAP_TYPE_HASH, 4, 8, 1024, 0) >= 0, "map %d", i);
    CHECK(prog_load(BPF_PROG_TYPE_SOCKET_FILTER, prog, 2, NULL, 0, 0) >= 0, "prog %d", i);
  }
  double rss = (double)rss_kib();
  emit("mem.hold_1000.rss", "KiB", n, &rss, 1);
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "load")) load(argc > 2 ? argv[2] : NULL);
  else if (argc == 3 && !strcmp(argv[1], "hold")) hold(atoi(argv[2]));
  else {
    fprintf(stderr, "usage: load load [FILE] | load hold N\n");
    return 1;
  }
  return 0;
}
