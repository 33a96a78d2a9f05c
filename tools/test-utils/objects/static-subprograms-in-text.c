// static-subprograms.c with its static helpers in .text, where libbpf takes them.
#define HELPER_SECTION section(".text")
#include "static-subprograms.c"
