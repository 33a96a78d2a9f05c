// ISA v4 instructions: clang-16 has no -mcpu=v4, so they are spelled as raw words in a naked
// function (fields in the target's byte order): sign-extending move and load, 64-bit byte
// swap, signed division and modulo, and the 32-bit gotol jump.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define REGS(dst, src) ((src) << 4 | (dst))
#else
#define REGS(dst, src) ((dst) << 4 | (src))
#endif
#define STR(x) #x
#define XSTR(x) STR(x)
#define INSN(op, dst, src, off, imm)                                                     \
  ".byte " XSTR(op) "\n.byte " XSTR(REGS(dst, src)) "\n.short " XSTR(off) "\n.long " XSTR(imm) "\n"

SEC("socket")
__attribute__((naked)) int uses_isa_v4(void) {
  asm volatile("r1 = 0xff\n"
               INSN(0xbf, 2, 1, 8, 0)    /* r2 = (s8)r1: -1 */
               "*(u16 *)(r10 - 8) = r1\n"
               INSN(0x89, 3, 10, -8, 0)  /* r3 = *(s16 *)(r10 - 8): 255 */
               "r4 = 0x7f\n"
               INSN(0xd7, 4, 0, 0, 64)   /* r4 = bswap64 r4 */
               "r5 = -7\n"
               "r6 = 2\n"
               INSN(0x3f, 5, 6, 1, 0)    /* r5 s/= r6: -3 */
               "r7 = -7\n"
               INSN(0x9f, 7, 6, 1, 0)    /* r7 s%= r6: -1 */
               "if r1 == 0 goto +1\n"    /* never taken; keeps the next-but-one reachable */
               INSN(0x06, 0, 0, 0, 1)    /* gotol +1 */
               "r0 = 99\n"
               "r0 = r3\n"
               "r0 += r2\n"
               "r0 += r5\n"
               "r0 += r7\n"
               "r4 >>= 56\n"
               "r0 += r4\n"
               "exit\n");
}

char LICENSE[] SEC("license") = "GPL";
