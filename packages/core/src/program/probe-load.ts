/**
 * Loading a probe program: feature probes load tiny programs to see what the kernel accepts and
 * only want to know what happened, not a typed error.
 */
import * as sys from '@ebpf/sys';
import { AttrBuffer, Cmd, ProgLoadAttr } from '@ebpf/uapi';
import { cString, logText } from './c-strings.ts';
import { encodeInstructions, returnZero } from './instructions.ts';
/** `r0 = 0; exit`: the smallest program every program type accepts. */
export const minimalProgram = encodeInstructions(returnZero, {});

/** What a probe load found: loaded (and closed at once), or the error code and the verifier's log. */
export interface ProbeOutcome {
  readonly ok: boolean;
  readonly code?: string | undefined;
  readonly log: string;
}

/** What some program types need besides their instructions. */
export interface ProbeLoadOptions {
  readonly expectedAttachType?: number | undefined;
  readonly flags?: number;
  /** The kernel BTF id of the attach target (tracing programs: a function, or an iterator). */
  readonly attachBtfId?: number;
}

/**
 * Loads `insns` as a GPL program of `type` with a small log, hands its fd to `use` (when given),
 * closes it and says what happened. Feature probes use it.
 */
export function probeLoad(
  type: number,
  insns: Uint8Array,
  { expectedAttachType, flags = 0, attachBtfId }: ProbeLoadOptions = {},
  use?: (fd: number) => void,
): ProbeOutcome {
  const attr = new AttrBuffer(ProgLoadAttr);
  const log = new Uint8Array(4096);
  attr.u32('progType', type);
  attr.u32('progFlags', flags);
  attr.u32('insnCnt', insns.length / 8);
  attr.pointer('insns', insns);
  attr.pointer('license', gpl);
  if (expectedAttachType !== undefined) attr.u32('expectedAttachType', expectedAttachType);
  if (attachBtfId !== undefined) attr.u32('attachBtfId', attachBtfId);
  attr.u32('logLevel', 1);
  attr.u32('logSize', log.length);
  attr.pointer('logBuf', log);
  let fd: number;
  try {
    fd = sys.bpf(Cmd.ProgLoad, attr.bytes, attr.pointers);
  } catch (error) {
    if (!(error instanceof sys.SysError)) throw error;
    return { ok: false, code: error.code, log: logText(log) };
  }
  try {
    use?.(fd);
  } finally {
    sys.close(fd);
  }
  return { ok: true, log: '' };
}

const gpl = cString('GPL');
