// The libbpf oracle: opens and loads a BPF object with the machine's libbpf, then prints as JSON
// what libbpf made of it, so tests can compare our loader with libbpf's. Usage:
//   libbpf-oracle OBJECT [--no-load PROG]... [--run PROG --data HEX [--repeat N]]...
// Output: {"object", "loaded", "error"?, "programs": [...], "maps": [...], "runs": [...],
// "contents": {...}}. Map contents are dumped after every run. Exit status 0 unless the
// arguments are wrong or the object cannot be opened (2); a failed load is reported in JSON.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RUNS 64
#define DATA_OUT_SIZE 65536

struct run {
  const char *program;
  const char *hex;
  unsigned repeat;
};

static void json_string(const char *s) {
  putchar('"');
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

static void json_hex(const void *bytes, size_t size) {
  const unsigned char *p = bytes;
  putchar('"');
  for (size_t i = 0; i < size; i++) printf("%02x", p[i]);
  putchar('"');
}

// Starts a JSON object for a named element of a list: a comma before every element but the first.
static void open_named(int *first, const char *name) {
  printf("%s{\"name\":", *first ? "" : ",");
  *first = 0;
  json_string(name);
}

static int parse_hex(const char *hex, unsigned char **out, size_t *size) {
  size_t len = strlen(hex);
  if (len % 2) return -1;
  *size = len / 2;
  *out = malloc(*size ? *size : 1);
  for (size_t i = 0; i < *size; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
    (*out)[i] = (unsigned char)v;
  }
  return 0;
}

// libbpf's warnings and verifier logs go to stderr, keeping stdout pure JSON.
static int print_to_stderr(enum libbpf_print_level level, const char *format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  return vfprintf(stderr, format, args);
}

// The program as the kernel holds it after verification (map references show map ids), or null.
static void print_xlated(int fd) {
  struct bpf_prog_info info;
  __u32 len = sizeof(info);
  memset(&info, 0, sizeof(info));
  if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
    printf("null");
    return;
  }
  __u32 size = info.xlated_prog_len;
  unsigned char *insns = calloc(1, size + 8);
  memset(&info, 0, sizeof(info));
  info.xlated_prog_len = size;
  info.xlated_prog_insns = (__u64)(unsigned long)insns;
  len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
    printf("null");
  } else {
    printf("[");
    for (__u32 at = 0; at < size; at += 8) {
      if (at) putchar(',');
      json_hex(insns + at, 8);
    }
    printf("]");
  }
  free(insns);
}

static void print_programs(struct bpf_object *obj, int loaded) {
  struct bpf_program *prog;
  int first = 1;
  printf("\"programs\":[");
  bpf_object__for_each_program(prog, obj) {
    open_named(&first, bpf_program__name(prog));
    printf(",\"section\":");
    json_string(bpf_program__section_name(prog));
    printf(",\"type\":");
    json_string(libbpf_bpf_prog_type_str(bpf_program__type(prog)));
    printf(",\"expectedAttachType\":");
    json_string(libbpf_bpf_attach_type_str(bpf_program__expected_attach_type(prog)));
    printf(",\"autoload\":%s,\"loaded\":%s", bpf_program__autoload(prog) ? "true" : "false",
           loaded && bpf_program__fd(prog) >= 0 ? "true" : "false");
    printf(",\"insns\":[");
    const struct bpf_insn *insns = bpf_program__insns(prog);
    size_t count = bpf_program__insn_cnt(prog);
    for (size_t i = 0; i < count; i++) {
      if (i) putchar(',');
      json_hex(&insns[i], sizeof(insns[i]));
    }
    printf("],\"xlated\":");
    print_xlated(loaded ? bpf_program__fd(prog) : -1);
    printf("}");
  }
  printf("]");
}

static void print_map_info(int fd) {
  struct bpf_map_info info;
  __u32 len = sizeof(info);
  memset(&info, 0, sizeof(info));
  if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
    printf("null");
    return;
  }
  printf("{\"id\":%u,\"name\":", info.id);
  json_string(info.name);
  printf(",\"type\":");
  json_string(libbpf_bpf_map_type_str(info.type));
  printf(",\"keySize\":%u,\"valueSize\":%u,\"maxEntries\":%u,\"flags\":%u", info.key_size,
         info.value_size, info.max_entries, info.map_flags);
  printf(",\"mapExtra\":\"%llu\",\"btfKeyTypeId\":%u,\"btfValueTypeId\":%u,\"btfVmlinuxValueTypeId\":%u}",
         (unsigned long long)info.map_extra, info.btf_key_type_id, info.btf_value_type_id,
         info.btf_vmlinux_value_type_id);
}

static void print_maps(struct bpf_object *obj) {
  struct bpf_map *map;
  int first = 1;
  printf("\"maps\":[");
  bpf_object__for_each_map(map, obj) {
    open_named(&first, bpf_map__name(map));
    printf(",\"type\":");
    json_string(libbpf_bpf_map_type_str(bpf_map__type(map)));
    printf(",\"keySize\":%u,\"valueSize\":%u,\"maxEntries\":%u,\"flags\":%u", bpf_map__key_size(map),
           bpf_map__value_size(map), bpf_map__max_entries(map), bpf_map__map_flags(map));
    printf(",\"mapExtra\":\"%llu\",\"btfKeyTypeId\":%u,\"btfValueTypeId\":%u",
           (unsigned long long)bpf_map__map_extra(map), bpf_map__btf_key_type_id(map),
           bpf_map__btf_value_type_id(map));
    printf(",\"fd\":%d,\"info\":", bpf_map__fd(map));
    print_map_info(bpf_map__fd(map));
    printf("}");
  }
  printf("]");
}

static int is_per_cpu(enum bpf_map_type type) {
  return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

// Every key and value the kernel returns for a map, or "error" naming why it cannot be walked
// (ring buffers, perf event arrays and the like have no lookups).
static void print_contents(struct bpf_object *obj) {
  struct bpf_map *map;
  int first = 1;
  printf("\"contents\":{");
  bpf_object__for_each_map(map, obj) {
    int fd = bpf_map__fd(map);
    if (fd < 0) continue;
    size_t key_size = bpf_map__key_size(map);
    size_t value_size = bpf_map__value_size(map);
    if (is_per_cpu(bpf_map__type(map)))
      value_size = ((value_size + 7) / 8) * 8 * (size_t)libbpf_num_possible_cpus();
    unsigned char *key = calloc(1, key_size + 1), *next = calloc(1, key_size + 1);
    unsigned char *value = calloc(1, value_size + 1);
    printf("%s", first ? "" : ",");
    first = 0;
    json_string(bpf_map__name(map));
    printf(":{\"entries\":[");
    int err = bpf_map_get_next_key(fd, NULL, next), entries = 0;
    while (!err) {
      if (bpf_map_lookup_elem(fd, next, value)) break;
      printf("%s[", entries++ ? "," : "");
      json_hex(next, key_size);
      putchar(',');
      json_hex(value, value_size);
      putchar(']');
      memcpy(key, next, key_size);
      err = bpf_map_get_next_key(fd, key, next);
    }
    printf("]");
    if (errno != ENOENT && (err || entries == 0)) {
      printf(",\"error\":");
      json_string(strerror(errno));
    }
    printf("}");
    free(key);
    free(next);
    free(value);
  }
  printf("}");
}

static int run_program(struct bpf_object *obj, const struct run *run) {
  struct bpf_program *prog = bpf_object__find_program_by_name(obj, run->program);
  unsigned char *data = NULL;
  size_t size = 0;
  if (!prog) {
    fprintf(stderr, "libbpf-oracle: no program %s\n", run->program);
    return -1;
  }
  if (parse_hex(run->hex, &data, &size)) {
    fprintf(stderr, "libbpf-oracle: --data must be an even number of hex digits\n");
    return -1;
  }
  unsigned char *out = calloc(1, DATA_OUT_SIZE);
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = size ? data : NULL, .data_size_in = (__u32)size,
              .data_out = out, .data_size_out = DATA_OUT_SIZE, .repeat = run->repeat);
  int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
  printf("{\"program\":");
  json_string(run->program);
  if (err) {
    printf(",\"error\":");
    json_string(strerror(errno));
  } else {
    printf(",\"retval\":%u,\"dataOut\":", opts.retval);
    json_hex(out, opts.data_size_out);
  }
  printf(",");
  print_contents(obj);
  printf("}");
  free(data);
  free(out);
  return 0;
}

int main(int argc, char **argv) {
  struct run runs[MAX_RUNS];
  const char *no_load[MAX_RUNS];
  int nruns = 0, nno_load = 0;
  if (argc < 2) {
    fprintf(stderr, "usage: libbpf-oracle OBJECT [--no-load PROG]... [--run PROG --data HEX [--repeat N]]...\n");
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--no-load") && i + 1 < argc && nno_load < MAX_RUNS) {
      no_load[nno_load++] = argv[++i];
    } else if (!strcmp(argv[i], "--run") && i + 1 < argc && nruns < MAX_RUNS) {
      runs[nruns++] = (struct run){argv[++i], "", 1};
    } else if (!strcmp(argv[i], "--data") && i + 1 < argc && nruns > 0) {
      runs[nruns - 1].hex = argv[++i];
    } else if (!strcmp(argv[i], "--repeat") && i + 1 < argc && nruns > 0) {
      runs[nruns - 1].repeat = (unsigned)strtoul(argv[++i], NULL, 10);
    } else {
      fprintf(stderr, "libbpf-oracle: unexpected argument %s\n", argv[i]);
      return 2;
    }
  }
  libbpf_set_print(print_to_stderr);
  struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
  if (!obj) {
    fprintf(stderr, "libbpf-oracle: cannot open %s: %s\n", argv[1], strerror(errno));
    return 2;
  }
  for (int i = 0; i < nno_load; i++) {
    struct bpf_program *prog = bpf_object__find_program_by_name(obj, no_load[i]);
    if (!prog) {
      fprintf(stderr, "libbpf-oracle: no program %s\n", no_load[i]);
      return 2;
    }
    bpf_program__set_autoload(prog, false);
  }
  int err = bpf_object__load(obj);
  printf("{\"object\":");
  json_string(bpf_object__name(obj));
  printf(",\"loaded\":%s", err ? "false" : "true");
  if (err) {
    printf(",\"error\":{\"errno\":%d,\"message\":", -err);
    json_string(strerror(-err));
    printf("}");
  }
  printf(",");
  print_programs(obj, !err);
  printf(",");
  print_maps(obj);
  printf(",\"runs\":[");
  for (int i = 0; !err && i < nruns; i++) {
    if (i) putchar(',');
    if (run_program(obj, &runs[i])) return 2;
  }
  printf("],");
  if (err)
    printf("\"contents\":{}");
  else
    print_contents(obj);
  printf("}\n");
  bpf_object__close(obj);
  return 0;
}
