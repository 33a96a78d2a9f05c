/** Formats a byte count with a binary unit: `1.5 KiB`. */
export function formatBytes(bytes: number | bigint): string {
  let n = Number(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

/** Formats a count with thousands separators: `12,345`. */
export function formatCount(n: number | bigint): string {
  return n.toLocaleString('en-US');
}

/** Formats nanoseconds as the largest fitting unit: `812 ns`, `1.2 µs`, `3.40 ms`. */
export function formatDuration(ns: number | bigint): string {
  const n = Number(ns);
  if (n < 1_000) return `${n} ns`;
  if (n < 1_000_000) return `${(n / 1_000).toFixed(1)} µs`;
  if (n < 1_000_000_000) return `${(n / 1_000_000).toFixed(2)} ms`;
  return `${(n / 1_000_000_000).toFixed(2)} s`;
}

/** A horizontal bar of `width` cells for `fraction` (0..1), with eighth-cell resolution. */
export function bar(fraction: number, width: number): string {
  const eighths = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const total = Math.round(f * width * 8);
  const full = Math.floor(total / 8);
  return '█'.repeat(full) + (eighths[total % 8] ?? '');
}

/**
 * A compact form of an ISO time for tables, as `ps` does: the time of day (UTC) within the last
 * 24 hours, else the date. `show` and `--json` keep the full time.
 */
export function formatWhen(iso: string, now: Date = new Date()): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const age = now.getTime() - at.getTime();
  return age >= 0 && age < 86_400_000 ? iso.slice(11, 19) : iso.slice(0, 10);
}
