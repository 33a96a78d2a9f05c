import { InsnClass, PseudoCall, PseudoSrc } from '@ebpf/uapi';
import { LinkError } from './errors.ts';
import { type Instruction, type Item, isLabel, type Label, type Metadata } from './instruction.ts';
import { pseudoImm, splitImm } from './ld64.ts';
import { CALL, GOTOL, LDDW, opClass } from './opcode.ts';

/** `name:` — marks the next instruction as a jump or call target. */
export function label(name: string): Label {
  if (typeof name !== 'string' || name.length === 0)
    throw new LinkError('label name must not be empty', String(name));
  return { kind: 'label', name };
}

/** A label that starts a BPF function (subprogram): its instructions get `meta.func = name`. */
export function func(name: string): Label {
  return { ...label(name), func: true };
}

/** The result of {@link linkInstructions}: instructions with offsets filled, and where each label is. */
export interface Linked {
  readonly instructions: Instruction[];
  /** Label name → index into `instructions`. */
  readonly labels: Map<string, number>;
}

/**
 * Resolves labels: every instruction with a `target` gets its jump offset (or `gotol`, call or
 * function-address delta) from where the label sits, counted in 8-byte slots. Labels come from
 * {@link Label} items and from instructions' `symbol`, so linking linked output again is a no-op.
 * Unknown and duplicate labels, and offsets that do not fit, throw {@link LinkError}.
 */
export function linkInstructions(items: readonly Item[]): Linked {
  const labels = new Map<string, number>();
  const labelSlot = new Map<string, number>();
  const pending: Label[] = [];
  const out: Instruction[] = [];
  const slotOf: number[] = [];
  let slot = 0;
  let currentFunc: string | undefined;
  const define = (name: string) => {
    if (labels.has(name)) throw new LinkError(`label '${name}' is defined twice`, name);
    labels.set(name, out.length);
    labelSlot.set(name, slot);
  };
  for (const item of items) {
    if (isLabel(item)) {
      define(item.name);
      pending.push(item);
      if (item.func) currentFunc = item.name;
      continue;
    }
    let insn = item;
    if (insn.symbol !== undefined && !pending.some((l) => l.name === insn.symbol)) define(insn.symbol);
    if (pending.length > 0 && insn.symbol === undefined) insn = { ...insn, symbol: pending[0]!.name };
    if (currentFunc !== undefined && insn.meta?.func === undefined) {
      const meta: Metadata = { ...insn.meta, func: currentFunc };
      insn = { ...insn, meta };
    }
    pending.length = 0;
    out.push(insn);
    slotOf.push(slot);
    slot += insn.op === LDDW ? 2 : 1;
  }
  if (pending.length > 0) {
    const name = pending[0]!.name;
    throw new LinkError(
      `label '${name}' is at the end of the program: it must be followed by an instruction`,
      name,
    );
  }
  for (let i = 0; i < out.length; i++) {
    const insn = out[i]!;
    if (insn.target === undefined) continue;
    const at = labelSlot.get(insn.target);
    if (at === undefined) {
      const known = [...labels.keys()];
      const hint =
        known.length === 0 ? 'no labels are defined' : `known labels: ${known.slice(0, 10).join(', ')}`;
      throw new LinkError(
        `instruction ${i} refers to unknown label '${insn.target}' (${hint})`,
        insn.target,
        i,
      );
    }
    out[i] = resolve(insn, at - slotOf[i]! - 1, i);
  }
  return { instructions: out, labels };
}

function resolve(insn: Instruction, delta: number, index: number): Instruction {
  const name = insn.target!;
  if (insn.op === LDDW) {
    if (insn.src !== PseudoSrc.Func) {
      throw new LinkError(
        `instruction ${index}: only function-address lddw can refer to a label ('${name}')`,
        name,
        index,
      );
    }
    return { ...insn, imm: pseudoImm(delta, splitImm(insn.imm as bigint)[1]) };
  }
  if (insn.op === GOTOL || (insn.op === CALL && insn.src === PseudoCall.Call)) {
    if (delta < -0x80000000 || delta > 0x7fffffff) {
      throw new LinkError(`instruction ${index}: label '${name}' is out of 32-bit reach`, name, index);
    }
    return { ...insn, imm: delta };
  }
  const cls = opClass(insn.op);
  if ((cls !== InsnClass.Jmp && cls !== InsnClass.Jmp32) || insn.op === CALL) {
    throw new LinkError(
      `instruction ${index} cannot refer to label '${name}': it is not a jump or call`,
      name,
      index,
    );
  }
  if (delta < -0x8000 || delta > 0x7fff) {
    const fix =
      insn.op === 0x05
        ? 'use gotol(), whose offset has 32 bits'
        : 'invert the condition to jump over a gotol() to the label';
    throw new LinkError(
      `instruction ${index}: jump to '${name}' is ${delta} slots away, beyond the 16-bit offset (-32768..32767); ${fix}`,
      name,
      index,
    );
  }
  return { ...insn, off: delta };
}
