import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { hexDump, parseHex } from './hex.ts';
import { type Column, fitWidths, renderFields, renderTable, tableWidth } from './table.ts';
import { bar, formatBytes, formatCount, formatDuration, formatWhen } from './units.ts';

const plain = pc.createColors(false);

describe('hex', () => {
  it.each([
    ['aabbcc', [0xaa, 0xbb, 0xcc]],
    ['AA BB cc', [0xaa, 0xbb, 0xcc]],
    ['0x45000014', [0x45, 0, 0, 0x14]],
    ['de:ad-be,ef', [0xde, 0xad, 0xbe, 0xef]],
    ['', []],
  ])('parses %j', (text, bytes) => {
    expect([...parseHex(text)]).toEqual(bytes);
  });

  it.each([
    ['abc', /odd number/],
    ['zz', /'z' is not a hex digit/],
  ])('refuses %j', (text, message) => {
    expect(() => parseHex(text)).toThrow(message);
  });

  it('dumps 16 bytes a line with offsets and ASCII', () => {
    const bytes = new Uint8Array(18).map((_, i) => 0x41 + i);
    expect(hexDump(bytes)).toBe(
      '00000000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  |ABCDEFGHIJKLMNOP|\n' +
        '00000010  51 52                                             |QR|\n',
    );
  });
});

describe('units', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [5n * 1024n * 1024n, '5.0 MiB'],
  ])('formatBytes(%s) = %s', (n, text) => expect(formatBytes(n)).toBe(text));

  it.each([
    [999, '999 ns'],
    [1500, '1.5 µs'],
    [3_400_000, '3.40 ms'],
    [2_000_000_000, '2.00 s'],
  ])('formatDuration(%s) = %s', (n, text) => expect(formatDuration(n)).toBe(text));

  it('shows a load time as the time of day within a day, else the date', () => {
    const now = new Date('2026-11-22T12:00:00Z');
    expect(formatWhen('2026-11-22T00:04:04Z', now)).toBe('00:04:04');
    expect(formatWhen('2026-11-20T23:59:59Z', now)).toBe('2026-11-20');
    expect(formatWhen('not a time', now)).toBe('not a time');
  });

  it('formats counts with separators', () => expect(formatCount(1234567n)).toBe('1,234,567'));

  it('draws bars with eighth-cell resolution, clamped', () => {
    expect(bar(0, 10)).toBe('');
    expect(bar(1, 4)).toBe('████');
    expect(bar(0.5, 4)).toBe('██');
    expect(bar(1 / 32, 4)).toBe('▏');
    expect(bar(2, 3)).toBe('███');
    expect(bar(Number.NaN, 3)).toBe('');
  });
});

describe('tables', () => {
  it('aligns columns, numbers to the right, without borders or trailing spaces', () => {
    const text = renderTable(
      [
        { header: 'ID', cell: (r: { id: number; name: string }) => String(r.id), align: 'right' },
        { header: 'NAME', cell: (r) => r.name },
      ],
      [
        { id: 7, name: 'xdp_count' },
        { id: 1234, name: 'x' },
      ],
      plain,
    );
    expect(text).toBe('  ID  NAME\n   7  xdp_count\n1234  x\n');
  });

  it('fits the terminal by cutting the columns that may shrink, widest first', () => {
    type Row = { id: number; name: string; maps: string };
    const columns: Column<Row>[] = [
      { header: 'ID', cell: (r) => String(r.id), align: 'right' },
      { header: 'NAME', cell: (r) => r.name, shrink: true },
      { header: 'MAPS', cell: (r) => r.maps, shrink: true },
    ];
    const rows = [{ id: 42, name: 'a_rather_long_program_name', maps: '1,2,3,4,5,6,7,8,9,10,11' }];
    expect(renderTable(columns, rows, plain)).toBe(
      'ID  NAME                        MAPS\n42  a_rather_long_program_name  1,2,3,4,5,6,7,8,9,10,11\n',
    );
    const narrow = renderTable(columns, rows, plain, 40);
    for (const line of narrow.trimEnd().split('\n')) expect(line.length).toBeLessThanOrEqual(40);
    expect(narrow).toMatch(/^42 {2}a_rather_long_pr… {2}1,2,3,4,5,6,7,8,…$/m);
    // A table that fits is left alone; ids never shrink, whatever the width.
    expect(renderTable(columns, rows, plain, 200)).toBe(renderTable(columns, rows, plain));
    expect(fitWidths([10, 30], [Number.POSITIVE_INFINITY, 6], 20)).toEqual([10, 8]);
    expect(fitWidths([10, 30], [Number.POSITIVE_INFINITY, 6], 5)).toEqual([10, 6]);
    expect(fitWidths([10, 30], [Number.POSITIVE_INFINITY, 6], undefined)).toBeUndefined();
  });

  it('uses the terminal width on a TTY only: a pipe gets whole cells', () => {
    expect(tableWidth({ isTTY: true, columns: 80 })).toBe(80);
    expect(tableWidth({ isTTY: false, columns: 80 })).toBeUndefined();
  });

  it('aligns key: value fields', () => {
    expect(
      renderFields(
        [
          ['id', '1'],
          ['type', 'xdp'],
        ],
        plain,
      ),
    ).toBe('id:   1\ntype: xdp\n');
  });

  it('continues a field on the next line under an empty key', () => {
    expect(
      renderFields(
        [
          ['functions', 'int f(void)'],
          ['', 'int g(void)'],
        ],
        plain,
      ),
    ).toBe('functions: int f(void)\n           int g(void)\n');
  });
});
