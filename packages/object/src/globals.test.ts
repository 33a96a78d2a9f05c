import { describe, expect, it } from 'vitest';
import { globalMapName } from './globals.ts';

describe('globalMapName (libbpf 1.1 internal_map_name)', () => {
  it.each([
    ['my_object_name', '.rodata', 'my_objec.rodata'],
    ['my_object_name', '.bss', 'my_objec.bss'],
    ['my_object_name', '.kconfig', 'my_obje.kconfig'],
    ['my_object_name', '.rodata.abracadabra', '.rodata.abracad'],
    ['my_object_name', '.data.custom', '.data.custom'],
    ['globals-of-ever', '.data', 'globals_.data'],
    ['ab', '.data', 'ab.data'],
    ['', '.bss', '.bss'],
    ['obj', '.rodata.str1.1', '.rodata.str1.1'],
  ])('%s + %s = %s', (object, section, expected) => {
    expect(globalMapName(object, section)).toBe(expected);
  });
});
