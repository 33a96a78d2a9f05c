/**
 * `@ebpf/btf` CO-RE engine against this kernel's BTF, no C counterpart (libbpf does not expose
 * its relocation step alone): `core.relocation` is the time per relocation of a mix of field
 * offsets (the first 20 members of ten busy kernel structs), type sizes and existence, and enum
 * values, resolved 50 times per run by a new `CoreResolver` each, as each object load makes one, with the
 * target's name index warm. `core.index_cold` is the first relocation against a freshly parsed
 * vmlinux: its name index and the scan for flavoured names, paid once per target per process.
 * The local BTF is a second parse of vmlinux (what a program built from vmlinux.h holds).
 * Usage: core.ts btf
 */
import { readFileSync } from 'node:fs';
import type * as BtfModule from '@ebpf/btf';
import type { CoreRelocationRecord } from '@ebpf/btf';
import { CoreReloKind } from '@ebpf/uapi';
import { check, landed, layerArg, measure, type Prepared, quick } from '../harness.ts';

const IDS = ['core.relocation', 'core.index_cold'];
const STRUCTS = [
  'task_struct',
  'sk_buff',
  'mm_struct',
  'file',
  'inode',
  'sock',
  'net_device',
  'cred',
  'dentry',
  'super_block',
];
const MEMBERS = 20;
/** Passes over the mix per timed run, each with a new resolver. */
const PASSES = quick ? 5 : 50;

function records(btf: BtfModule.Btf): CoreRelocationRecord[] {
  const out: CoreRelocationRecord[] = [];
  for (const name of STRUCTS) {
    const t = btf.typeByName(name, 'struct');
    if (t?.kind !== 'struct') continue;
    t.members.slice(0, MEMBERS).forEach((m, i) => {
      if (m.name !== '' && m.bitfieldSize === 0)
        out.push({ typeId: t.id, accessString: `0:${i}`, kind: CoreReloKind.FieldByteOffset });
    });
    out.push({ typeId: t.id, accessString: '0', kind: CoreReloKind.TypeSize });
    out.push({ typeId: t.id, accessString: '0', kind: CoreReloKind.TypeExists });
  }
  const mapTypes = btf.typeByName('bpf_map_type', 'enum');
  if (mapTypes?.kind === 'enum')
    for (let i = 0; i < mapTypes.values.length; i++)
      out.push({ typeId: mapTypes.id, accessString: String(i), kind: CoreReloKind.EnumvalValue });
  return out;
}

async function prepare(): Promise<Prepared> {
  const mod = await landed<typeof BtfModule>('@ebpf/btf', ['Btf', 'CoreResolver']);
  if ('reason' in mod) return mod;
  const { Btf, CoreResolver } = mod.mod;
  const bytes = new Uint8Array(readFileSync('/sys/kernel/btf/vmlinux'));
  const target = Btf.parse(bytes);
  const local = Btf.parse(bytes.slice());
  const relocations = records(local);
  const task = local.typeByName('task_struct', 'struct')!;
  const sizeOfTask: CoreRelocationRecord = {
    typeId: task.id,
    accessString: '0',
    kind: CoreReloKind.TypeSize,
  };
  let fresh = target;
  let sink = 0n;
  return {
    timed: [
      {
        id: IDS[0]!,
        unit: 'ns/op',
        ops: relocations.length * PASSES,
        loop() {
          for (let pass = 0; pass < PASSES; pass++) {
            const resolver = new CoreResolver(local, [target]);
            for (const r of relocations) sink += resolver.fixup(r).target;
          }
          check(sink > 0n, 'relocations resolve');
        },
      },
      {
        id: IDS[1]!,
        unit: 'ns/op',
        ops: 1,
        before() {
          fresh = Btf.parse(bytes.slice());
        },
        loop() {
          const size = new CoreResolver(local, [fresh]).fixup(sizeOfTask).target;
          check(
            size === BigInt(target.sizeof(target.typeByName('task_struct', 'struct')!.id)),
            'task_struct size',
          );
        },
      },
    ],
  };
}

const layer = layerArg(['btf']);
measure(layer, IDS, await prepare());
