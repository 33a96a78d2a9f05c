// Loads user-ringbuf-drain.bpf.o with libbpf, its ring replaced by the map pinned at argv[2], runs
// the drain program argv[3] times and prints "sum count drained" of each run.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>

struct totals {
	unsigned long long sum;
	unsigned long long count;
	long long drained;
};

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s OBJECT PIN RUNS\n", argv[0]);
		return 2;
	}
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) return 3;
	struct bpf_map *ring = bpf_object__find_map_by_name(obj, "user_ring");
	int pinned = bpf_obj_get(argv[2]);
	if (!ring || pinned < 0 || bpf_map__reuse_fd(ring, pinned)) return 4;
	if (bpf_object__load(obj)) return 5;
	int prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "drain"));
	for (int i = 0; i < atoi(argv[3]); i++) {
		struct totals t = {0};
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &t, .ctx_size_in = sizeof(t));
		if (bpf_prog_test_run_opts(prog, &opts)) return 6;
		printf("%llu %llu %lld\n", t.sum, t.count, t.drained);
	}
	bpf_object__close(obj);
	return 0;
}
