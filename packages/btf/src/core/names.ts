/**
 * CO-RE "flavours": a local type `task_struct___old` stands for the kernel's `task_struct`. The
 * essential name drops the last `___suffix` (three underscores between two other characters).
 */
export function essentialName(name: string): string {
  for (let i = name.length - 5; i >= 0; i--) {
    if (
      name.charCodeAt(i) !== UNDERSCORE &&
      name.charCodeAt(i + 1) === UNDERSCORE &&
      name.charCodeAt(i + 2) === UNDERSCORE &&
      name.charCodeAt(i + 3) === UNDERSCORE &&
      name.charCodeAt(i + 4) !== UNDERSCORE
    )
      return name.slice(0, i + 1);
  }
  return name;
}

export const UNDERSCORE = 0x5f;
