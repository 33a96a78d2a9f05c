/**
 * The bench's programs as raw instruction bytes, encoded here (not with @ebpf/asm, which the
 * bench measures) so the C baseline and every Node layer load exactly the same bytes.
 */

// Opcode parts (linux/bpf.h, linux/bpf_common.h).
const ALU = 0x04;
const ALU64 = 0x07;
const JMP = 0x05;
const LD = 0x00;
const ST = 0x02;
const STX = 0x03;
const MOV = 0xb0;
const ADD = 0x00;
const K = 0x00;
const X = 0x08;
const EXIT = 0x90;
const CALL = 0x80;
const JLT = 0xa0;
const DW = 0x18;
const IMM = 0x00;
const MEM = 0x60;
const PSEUDO_MAP_FD = 1;
const FUNC_RINGBUF_OUTPUT = 130;
const FUNC_PERF_EVENT_OUTPUT = 25;
const XDP_PASS = 2;

/** Size of one instruction. */
export const INSN_SIZE = 8;

/** Writes one `struct bpf_insn` at instruction index `i`. */
function put(
  view: DataView,
  i: number,
  code: number,
  dst: number,
  src: number,
  off: number,
  imm: number,
): void {
  const o = i * INSN_SIZE;
  view.setUint8(o, code);
  view.setUint8(o + 1, (dst & 0xf) | ((src & 0xf) << 4));
  view.setInt16(o + 2, off, true);
  view.setInt32(o + 4, imm, true);
}

function program(count: number, fill: (view: DataView) => void): Uint8Array {
  const bytes = new Uint8Array(new ArrayBuffer(count * INSN_SIZE));
  fill(new DataView(bytes.buffer));
  return bytes;
}

/** W4: `r0 = 2 (XDP_PASS); exit`. */
export function xdpPassProgram(): Uint8Array {
  return program(2, (v) => {
    put(v, 0, ALU64 | MOV | K, 0, 0, 0, XDP_PASS);
    put(v, 1, JMP | EXIT, 0, 0, 0, 0);
  });
}

/**
 * W5's producer (W7's with `perf`), the same bytes as C's `event_producer`: for (r6 = 0; r6 < 64;
 * r6++) write { u64 r6, u64 0x5eed } with bpf_ringbuf_output(map, &rec, 16, 0), or with
 * bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, &rec, 16); return XDP_PASS.
 */
export function eventProducerProgram(mapFd: number, perf: boolean): Uint8Array {
  const [map, rec, size] = perf ? [2, 4, 5] : [1, 2, 3];
  return program(16, (v) => {
    put(v, 0, ALU64 | MOV | X, 7, 1, 0, 0); // r7 = ctx
    put(v, 1, ALU64 | MOV | K, 6, 0, 0, 0);
    put(v, 2, ST | MEM | DW, 10, 0, -8, 0x5eed);
    put(v, 3, STX | MEM | DW, 10, 6, -16, 0); // loop
    put(v, 4, LD | DW | IMM, map, PSEUDO_MAP_FD, 0, mapFd);
    put(v, 5, 0, 0, 0, 0, 0);
    put(v, 6, ALU64 | MOV | X, rec, 10, 0, 0);
    put(v, 7, ALU64 | ADD | K, rec, 0, 0, -16);
    put(v, 8, ALU64 | MOV | K, size, 0, 0, 16);
    if (perf) {
      put(v, 9, ALU | MOV | K, 3, 0, 0, -1); // BPF_F_CURRENT_CPU
      put(v, 10, ALU64 | MOV | X, 1, 7, 0, 0); // ctx
    } else {
      put(v, 9, ALU64 | MOV | K, 4, 0, 0, 0); // flags
      put(v, 10, ALU64 | MOV | K, 0, 0, 0, 0);
    }
    put(v, 11, JMP | CALL, 0, 0, 0, perf ? FUNC_PERF_EVENT_OUTPUT : FUNC_RINGBUF_OUTPUT);
    put(v, 12, ALU64 | ADD | K, 6, 0, 0, 1);
    put(v, 13, JMP | JLT | K, 6, 0, -11, 64);
    put(v, 14, ALU64 | MOV | K, 0, 0, 0, XDP_PASS);
    put(v, 15, JMP | EXIT, 0, 0, 0, 0);
  });
}

/** The load-time program: a socket filter of 1,000 instructions, `r0 = 0; 998 × r0 += 1; exit`. */
export function loadTestProgram(): Uint8Array {
  return program(1000, (v) => {
    put(v, 0, ALU64 | MOV | K, 0, 0, 0, 0);
    for (let i = 1; i < 999; i++) put(v, i, ALU64 | ADD | K, 0, 0, 0, 1);
    put(v, 999, JMP | EXIT, 0, 0, 0, 0);
  });
}

/** Instructions of the load-time program. */
export const LOAD_TEST_INSNS = 1000;
