import { describe, expect, it } from 'vitest';
import { emitNative, NATIVE_RULES_FILE } from './emit-native.ts';
import { readIr } from './files.ts';
import { DEFAULT_IR_DIR } from './main.ts';

const header = emitNative(readIr(DEFAULT_IR_DIR)).get(NATIVE_RULES_FILE) ?? '';

describe('native structs and map-type sets', () => {
  it('lays out the structs native code fills itself from the IR, a union where fields share an offset', () => {
    expect(header).toContain(
      [
        'struct MapElemAttr {',
        '  uint32_t map_fd;',
        '  uint8_t pad4[4];',
        '  uint64_t key;',
        '  union {',
        '    uint64_t value;',
        '    uint64_t next_key;',
        '  };',
        '  uint64_t flags;',
        '};',
      ].join('\n'),
    );
    expect(header).toContain('static_assert(sizeof(TestRunAttr) == 80 &&');
    expect(header).toContain('offsetof(MapInfo, map_flags) == 20');
  });

  it('answers per-CPU and fd map types by the enum values of the IR', () => {
    expect(header).toMatch(
      /inline constexpr bool IsPerCpuMapType\(uint32_t type\) \{[^}]*case 5: {2}\/\/ BPF_MAP_TYPE_PERCPU_HASH/,
    );
    expect(header).toMatch(
      /inline constexpr bool IsFdMapType\(uint32_t type\) \{[^}]*case 13: {2}\/\/ BPF_MAP_TYPE_HASH_OF_MAPS/,
    );
  });
});
