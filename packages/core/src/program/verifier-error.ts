import { BpfError, type BpfErrorOptions } from '../errors.ts';
import { parseVerifierLog } from './verifier-log.ts';

/**
 * The kernel's verifier rejected a program. `log` is the verifier's whole log (loading retries
 * with logging on, growing the buffer until it fits), `instruction` the index of the instruction
 * it stopped at (when the log names one) and `summary` its reason in one line, which the message
 * repeats: `verifier rejected xdp program "count": instruction 1 (r0 = *(u32 *)(r2 +0)): R2 !read_ok`.
 */
export class VerifierError extends BpfError {
  override name = 'VerifierError';
  /** The verifier's full log. */
  readonly log: string;
  /** Index of the instruction the verifier rejected, when the log names one. */
  readonly instruction: number | undefined;
  /** The verifier's listing of that instruction, when the log has it. */
  readonly instructionText: string | undefined;
  /** The reason, one line. */
  readonly summary: string;
  /** The C source line of that instruction (`file:line:column: text`), when the program has line info (set by `Collection.load`). */
  source: string | undefined;

  constructor(
    what: string,
    log: string,
    options: BpfErrorOptions & { readonly instructionCount?: number } = {},
  ) {
    const parsed = parseVerifierLog(log, options.instructionCount);
    const where =
      parsed.instruction === undefined
        ? ''
        : ` at instruction ${parsed.instruction}${parsed.instructionText ? ` (${parsed.instructionText})` : ''}`;
    super(`verifier rejected ${what}${where}: ${parsed.summary}`, options);
    this.log = log;
    this.instruction = parsed.instruction;
    this.instructionText = parsed.instructionText;
    this.summary = parsed.summary;
    this.source = undefined;
  }
}
