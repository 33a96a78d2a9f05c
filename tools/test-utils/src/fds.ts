import { readdirSync } from 'node:fs';

/** Number of file descriptors this process has open right now. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}
