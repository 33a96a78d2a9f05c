/**
 * Reading the kernel verifier's log: which instruction it stopped at and why, in one line.
 * Pure string work, so it is unit-tested on logs captured from a real kernel (see testdata/).
 */

/** What a verifier log says about a rejected program. */
export interface VerifierLogSummary {
  /** Index of the instruction the verifier rejected, when the log names one. */
  readonly instruction: number | undefined;
  /** The verifier's listing of that instruction (`r0 = *(u32 *)(r2 +0)`), when the log has it. */
  readonly instructionText: string | undefined;
  /** The verifier's reason, one line (two joined with "; " when the second explains the first). */
  readonly summary: string;
  /** The error lines themselves, as the verifier wrote them. */
  readonly errorLines: readonly string[];
}

/** An instruction line of the walk: `12: (61) r0 = *(u32 *)(r2 +0)    ; R0=...`. */
const instructionLine = /^(\d+): \([0-9a-f]{2}\) (.*)$/;
/** A register-state line of the walk (`0: R1=ctx() R10=fp0`) or a branch state (`from 3 to 5: ...`). */
const stateLine = /^(?:\d+: R\d|from \d+ to \d+:)/;
/** Statistics the kernel appends to every log; never the reason. */
const trailerLine = /^(?:processed \d+ insns|verification time|stack depth|mark_read|peak_states)/;
/** Lines that dump verifier state after an error: detail, not the reason. */
const dumpLine = /^(?:cur state:|old state:|\s)/;
/** Errors found before the walk (CFG checks) name their instruction in the text. */
const namedInstruction = /\binsn (\d+)\b/;

/**
 * Finds the failing instruction and a one-line reason in a verifier log. Works on logs of any
 * level and on logs whose beginning was cut (the kernel keeps the tail when the buffer is short).
 * `instructionCount`, when given, places errors about the program's end ("last insn is not an exit").
 */
export function parseVerifierLog(log: string, instructionCount?: number): VerifierLogSummary {
  const lines = log.split('\n').map((line) => line.replace(/\s+$/, ''));
  while (
    lines.length > 0 &&
    (lines[lines.length - 1] === '' || trailerLine.test(lines[lines.length - 1] ?? ''))
  ) {
    lines.pop();
  }

  let lastInstruction = -1;
  let instruction: number | undefined;
  let instructionText: string | undefined;
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = instructionLine.exec(lines[i] ?? '');
    if (match) {
      lastInstruction = i;
      instruction = Number(match[1]);
      instructionText = (match[2] ?? '').split(/\s+; /)[0]?.trim();
      break;
    }
  }

  const errorLines = lines
    .slice(lastInstruction + 1)
    .filter((line) => line !== '' && !stateLine.test(line) && !/^func#\d+ @\d+$/.test(line));
  const reasons = errorLines.filter((line) => !dumpLine.test(line));
  const first = reasons[0];

  // A message that names its instruction ("infinite loop detected at insn 1", "unreachable insn 2",
  // "jump out of range from insn 0 to 6") is more precise than the last instruction walked.
  const named = first === undefined ? null : namedInstruction.exec(first);
  if (named) {
    const index = Number(named[1]);
    if (index !== instruction) {
      instruction = index;
      instructionText = findListing(lines, index);
    }
  }

  if (instruction === undefined && instructionCount !== undefined && first?.startsWith('last insn')) {
    instruction = instructionCount - 1;
  }

  let summary = first ?? (lines.length > 0 ? (lines[lines.length - 1] ?? '') : 'the verifier left no log');
  const second = reasons[1];
  if (second !== undefined && summary.length + second.length < 160) summary = `${summary}; ${second}`;
  return { instruction, instructionText, summary, errorLines };
}

/** The listing of instruction `index` if the log printed it (level 2 logs list every instruction). */
function findListing(lines: readonly string[], index: number): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const match = instructionLine.exec(lines[i] ?? '');
    if (match && Number(match[1]) === index) return (match[2] ?? '').split(/\s+; /)[0]?.trim();
  }
  return undefined;
}
