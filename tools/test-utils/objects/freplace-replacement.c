// An freplace (ext) program for freplace-target.c's global function replaceable(): its
// prototype matches, as the kernel requires; it returns 7 where the original returns x + 1.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("freplace/replaceable")
int new_impl(int x) { return 7; }

SEC("freplace")
int names_nothing(int x) { return 8; }

char LICENSE[] SEC("license") = "GPL";
