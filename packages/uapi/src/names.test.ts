import { describe, expect, it } from 'vitest';
import { Cmd, FuncId, MapFlags, MapType, XdpAction } from './generated/enums.generated.ts';
import { cNameOf, flagNames, nameOf } from './names.ts';

describe('nameOf / cNameOf / flagNames', () => {
  it('finds names back from values', () => {
    expect(nameOf(MapType, 1)).toBe('Hash');
    expect(cNameOf(MapType, 1)).toBe('BPF_MAP_TYPE_HASH');
    expect(nameOf(FuncId, 1)).toBe('MapLookupElem');
    expect(cNameOf(FuncId, FuncId.MapLookupElem)).toBe('BPF_FUNC_map_lookup_elem');
    expect(cNameOf(XdpAction, XdpAction.Pass)).toBe('XDP_PASS');
  });

  it('prefers the first-declared member on aliases', () => {
    expect(Cmd.ProgRun).toBe(Cmd.ProgTestRun);
    expect(nameOf(Cmd, Cmd.ProgRun)).toBe('ProgTestRun');
    expect(cNameOf(Cmd, 10)).toBe('BPF_PROG_TEST_RUN');
  });

  it('returns undefined for unknown values and objects', () => {
    expect(nameOf(MapType, 9999)).toBeUndefined();
    expect(cNameOf({ A: 1 }, 1)).toBeUndefined();
  });

  it('splits flag masks, unknown bits in hex', () => {
    expect(flagNames(MapFlags, MapFlags.NoPrealloc | MapFlags.Rdonly)).toEqual(['NoPrealloc', 'Rdonly']);
    expect(flagNames(MapFlags, 0)).toEqual([]);
    expect(flagNames(MapFlags, 2 ** 30)).toEqual(['0x40000000']);
  });
});
