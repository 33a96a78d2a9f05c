import { InvalidInstructionError } from './errors.ts';

/**
 * A register operand: `index` 0 to 10, and `wide` false for the 32-bit view (`w0`..`w10`).
 * The 32-bit view matters only to builders that take either width; encodings carry the index.
 */
export interface Register {
  /** The register number, 0 to 10. */
  readonly index: number;
  /** True for the 64-bit `rN`, false for the 32-bit `wN`. */
  readonly wide: boolean;
}

function reg(index: number, wide: boolean): Register {
  return Object.freeze({ index, wide });
}

/** Return value of calls and of the program. */
export const R0: Register = reg(0, true);
/** First argument; the context pointer at program entry. */
export const R1: Register = reg(1, true);
/** Second argument. */
export const R2: Register = reg(2, true);
/** Third argument. */
export const R3: Register = reg(3, true);
/** Fourth argument. */
export const R4: Register = reg(4, true);
/** Fifth argument. */
export const R5: Register = reg(5, true);
/** Callee-saved register. */
export const R6: Register = reg(6, true);
/** Callee-saved register. */
export const R7: Register = reg(7, true);
/** Callee-saved register. */
export const R8: Register = reg(8, true);
/** Callee-saved register. */
export const R9: Register = reg(9, true);
/** Read-only frame pointer: the stack is the 512 bytes below it. */
export const R10: Register = reg(10, true);
/** 32-bit view of R0. */
export const W0: Register = reg(0, false);
/** 32-bit view of R1. */
export const W1: Register = reg(1, false);
/** 32-bit view of R2. */
export const W2: Register = reg(2, false);
/** 32-bit view of R3. */
export const W3: Register = reg(3, false);
/** 32-bit view of R4. */
export const W4: Register = reg(4, false);
/** 32-bit view of R5. */
export const W5: Register = reg(5, false);
/** 32-bit view of R6. */
export const W6: Register = reg(6, false);
/** 32-bit view of R7. */
export const W7: Register = reg(7, false);
/** 32-bit view of R8. */
export const W8: Register = reg(8, false);
/** 32-bit view of R9. */
export const W9: Register = reg(9, false);
/** 32-bit view of R10. */
export const W10: Register = reg(10, false);

/** The frame pointer's index. */
export const FRAME_POINTER = 10;
/** Bytes of stack below the frame pointer. */
export const STACK_SIZE = 512;

const wideRegs = [R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10] as const;
const narrowRegs = [W0, W1, W2, W3, W4, W5, W6, W7, W8, W9, W10] as const;

/** The register with this index (0 to 10), 64-bit view unless `wide` is false. */
export function register(index: number, wide = true): Register {
  const r = (wide ? wideRegs : narrowRegs)[index];
  if (r === undefined || !Number.isInteger(index)) {
    throw new InvalidInstructionError(`register index ${index} is out of range (r0 to r10)`, {
      field: 'register',
    });
  }
  return r;
}

/** True when `x` is a {@link Register} (as opposed to an immediate). */
export function isRegister(x: unknown): x is Register {
  return typeof x === 'object' && x !== null && 'index' in x && 'wide' in x;
}
