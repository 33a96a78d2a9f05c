// The probe of usdt-probes.c that fires only while a tracer holds its semaphore up.
#define _SDT_HAS_SEMAPHORES 1
#include <stdint.h>
#include <sys/sdt.h>

__extension__ unsigned short test_guarded_semaphore __attribute__((unused, section(".probes")));

__attribute__((noipa)) void guarded(int32_t value)
{
	if (test_guarded_semaphore)
		STAP_PROBE1(test, guarded, value);
}
