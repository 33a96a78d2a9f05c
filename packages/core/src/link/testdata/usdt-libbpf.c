// The libbpf side of the USDT differential test: loads usdt.bpf.o, attaches any_probe with
// bpf_program__attach_usdt to the probes named on the command line (cookie = position, as the
// test does), runs the traced binary once with "go" on its stdin, and prints what `seen` holds
// per slot: "slot count arg0 arg1 arg2 arg3 hits".
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

struct seen {
	long long count;
	long long args[4];
	unsigned long long hits;
};

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s OBJECT BINARY PROBE...\n", argv[0]);
		return 2;
	}
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	struct bpf_program *each;
	if (!obj) {
		fprintf(stderr, "cannot open %s\n", argv[1]);
		return 1;
	}
	// Only any_probe is compared (and Debian's libbpf 1.1 knows no usdt.s sections).
	bpf_object__for_each_program(each, obj)
		bpf_program__set_autoload(each, strcmp(bpf_program__name(each), "any_probe") == 0);
	if (bpf_object__load(obj)) {
		fprintf(stderr, "cannot load %s\n", argv[1]);
		return 1;
	}
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, "any_probe");
	struct bpf_link *links[8] = {0};
	int probes = argc - 3;
	for (int i = 0; i < probes && i < 8; i++) {
		LIBBPF_OPTS(bpf_usdt_opts, opts, .usdt_cookie = i);
		links[i] = bpf_program__attach_usdt(prog, -1, argv[2], "test", argv[3 + i], &opts);
		if (!links[i]) {
			fprintf(stderr, "cannot attach to test:%s\n", argv[3 + i]);
			return 1;
		}
	}
	char command[4096];
	snprintf(command, sizeof(command), "echo go | %s > /dev/null", argv[2]);
	if (system(command) != 0)
		return 1;
	int seen = bpf_object__find_map_fd_by_name(obj, "seen");
	for (unsigned slot = 0; slot < (unsigned)probes; slot++) {
		struct seen s;
		if (bpf_map_lookup_elem(seen, &slot, &s))
			return 1;
		printf("%u %lld %lld %lld %lld %lld %llu\n", slot, s.count, s.args[0], s.args[1], s.args[2], s.args[3], s.hits);
	}
	for (int i = 0; i < probes; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	return 0;
}
