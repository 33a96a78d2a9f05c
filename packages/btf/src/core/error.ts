import type { TypeId } from '../types.ts';

/**
 * A CO-RE relocation that cannot be computed at all (as opposed to one without a target, which
 * is poisoned): a malformed access string, an anonymous root type, candidates that disagree.
 */
export class CoreError extends Error {
  override name = 'CoreError';
  constructor(
    message: string,
    /** The relocation's local type id and access string, as the object records them. */
    readonly typeId: TypeId,
    readonly accessString: string,
    options?: { cause?: unknown },
  ) {
    super(`CO-RE relocation of type ${typeId} "${accessString}": ${message}`, options);
  }
}
