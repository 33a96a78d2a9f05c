/**
 * The C++ sources take bpf command numbers, attr layouts and map-type values from the generated
 * header (generated/bpf-rules.generated.h), never from numbers of their own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('.', import.meta.url);
const sources = readdirSync(dir)
  .filter((f) => f.endsWith('.cc'))
  .map((f) => ({ file: f, text: readFileSync(new URL(f, dir), 'utf8') }));

/** Lines of `text` matching `pattern`, as `file:line: text`. */
function offending(pattern: RegExp): string[] {
  return sources.flatMap(({ file, text }) =>
    text
      .split('\n')
      .map((line, i) => ({ line, at: `${file}:${i + 1}: ${line.trim()}` }))
      .filter(({ line }) => pattern.test(line) && !line.trim().startsWith('//'))
      .map(({ at }) => at),
  );
}

describe('native sources', () => {
  it('has C++ sources to check', () => {
    expect(sources.map((s) => s.file)).toEqual(expect.arrayContaining(['maps.cc', 'testrun.cc', 'bpf.cc']));
  });

  it('call bpf() with generated command constants only', () => {
    expect(offending(/SysBpf\(\s*\d/)).toEqual([]);
  });

  it('lay out no bpf attr or info struct by hand', () => {
    expect(offending(/^\s*struct \w*(Attr|Info)\s*\{/)).toEqual([]);
  });

  it('compare map types with the generated predicates, not numbers', () => {
    expect(offending(/\btype == \d+/)).toEqual([]);
  });
});
