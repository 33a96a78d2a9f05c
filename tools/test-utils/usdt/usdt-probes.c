// The traced program of the USDT tests: prints "ready", waits for a line on stdin, then passes
// each probe once and exits. One function is built without optimisation so its arguments live
// on the stack (`-4@-20(%rbp)`); the optimised one passes registers and constants. The
// semaphore-guarded probe is in usdt-guarded.c (sys/sdt.h gives every probe of a file a
// semaphore or none).
#include <stdint.h>
#include <stdio.h>
#include <sys/sdt.h>

void guarded(int32_t value);
extern unsigned short test_guarded_semaphore;

__attribute__((noinline, optimize("O0"))) static void on_stack(int8_t tiny, uint16_t small, int32_t word, int64_t wide)
{
	STAP_PROBE4(test, stack, tiny, small, word, wide);
}

__attribute__((noipa)) static void in_registers(int32_t word, uint64_t wide, uint8_t byte)
{
	DTRACE_PROBE3(test, registers, word, wide, byte);
	STAP_PROBE2(test, constants, 42, -9);
}

int main(void)
{
	char line[16];
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("ready\n");
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	on_stack(-5, 65000, -123456, -1234567890123LL);
	in_registers(-77, 0x1122334455667788ULL, 200);
	guarded(31337);
	printf("semaphore %u\n", test_guarded_semaphore);
	return 0;
}
