/**
 * errno names and numbers from asm-generic/errno-base.h and asm-generic/errno.h, with the
 * header's comment as the description, plus the kernel-internal errnos of `facts.ts`.
 */
import { errnoFacts } from './facts.ts';
import type { IrErrno } from './ir.ts';

/** `#define EPERM 1 /* Operation not permitted *\/`, or an alias `#define EWOULDBLOCK EAGAIN`. */
const errnoDefine = /^#define\s+(E[A-Z0-9_]+)\s+(\d+|E[A-Z0-9_]+)\s*(?:\/\*\s*(.*?)\s*\*\/)?\s*$/;

export class ErrnoError extends Error {}

/** The errnos `texts` define (in order), then the facts; aliases take their target's number. */
export function extractErrno(texts: readonly { readonly name: string; readonly text: string }[]): IrErrno[] {
  const found: IrErrno[] = [];
  const byName = new Map<string, IrErrno>();
  const add = (e: IrErrno) => {
    const prev = byName.get(e.name);
    if (prev && prev.value !== e.value)
      throw new ErrnoError(`${e.name} is both ${prev.value} and ${e.value}`);
    if (prev) return;
    byName.set(e.name, e);
    found.push(e);
  };
  for (const { name: file, text } of texts) {
    for (const line of text.split('\n')) {
      const m = errnoDefine.exec(line);
      if (!m) continue;
      const [, name, value, comment] = m as unknown as [string, string, string, string | undefined];
      if (/^\d+$/.test(value)) {
        add({ name, value: Number(value), description: comment ?? '', from: 'header' });
        continue;
      }
      const target = byName.get(value);
      if (!target) throw new ErrnoError(`${file}: ${name} aliases ${value}, which is not defined before it`);
      add({
        name,
        value: target.value,
        description: comment ?? target.description,
        alias: value,
        from: 'header',
      });
    }
  }
  for (const f of errnoFacts) add({ ...f, from: 'facts' });
  return found.sort(
    (a, b) => a.value - b.value || Number(a.alias !== undefined) - Number(b.alias !== undefined),
  );
}
