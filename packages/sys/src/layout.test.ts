/**
 * The native pointer tables (src/generated/bpf-rules.generated.h) and @ebpf/uapi's layouts are
 * generated from the same IR by codegen; this checks the generated header is the one built into
 * the addon and that the two outputs agree on every pointer field, or a pointer could slip past the
 * checks (a field native does not know) or a buffer be refused (a field native invents).
 */
import * as uapi from '@ebpf/uapi';
import { describe, expect, it } from 'vitest';
import {
  attrSize,
  commandCount,
  commandName,
  infoPointerFields,
  pointerFields,
  testRunFields,
} from './index.ts';

type Layout = { name: string; size: number; fields: Record<string, { offset: number; type: string }> };

const { Cmd } = uapi;
const layoutOf: Record<number, Layout> = {
  [Cmd.MapCreate]: uapi.MapCreateAttr,
  [Cmd.MapLookupElem]: uapi.MapElemAttr,
  [Cmd.MapUpdateElem]: uapi.MapElemAttr,
  [Cmd.MapDeleteElem]: uapi.MapElemAttr,
  [Cmd.MapGetNextKey]: uapi.MapElemAttr,
  [Cmd.MapLookupAndDeleteElem]: uapi.MapElemAttr,
  [Cmd.MapFreeze]: uapi.MapElemAttr,
  [Cmd.ProgLoad]: uapi.ProgLoadAttr,
  [Cmd.ObjPin]: uapi.ObjAttr,
  [Cmd.ObjGet]: uapi.ObjAttr,
  [Cmd.ProgAttach]: uapi.ProgAttachAttr,
  [Cmd.ProgDetach]: uapi.ProgAttachAttr,
  [Cmd.ProgTestRun]: uapi.TestRunAttr,
  [Cmd.ProgGetNextId]: uapi.GetIdAttr,
  [Cmd.MapGetNextId]: uapi.GetIdAttr,
  [Cmd.ProgGetFdById]: uapi.GetIdAttr,
  [Cmd.MapGetFdById]: uapi.GetIdAttr,
  [Cmd.BtfGetFdById]: uapi.GetIdAttr,
  [Cmd.BtfGetNextId]: uapi.GetIdAttr,
  [Cmd.LinkGetFdById]: uapi.GetIdAttr,
  [Cmd.LinkGetNextId]: uapi.GetIdAttr,
  [Cmd.ObjGetInfoByFd]: uapi.InfoAttr,
  [Cmd.ProgQuery]: uapi.QueryAttr,
  [Cmd.RawTracepointOpen]: uapi.RawTracepointOpenAttr,
  [Cmd.BtfLoad]: uapi.BtfLoadAttr,
  [Cmd.TaskFdQuery]: uapi.TaskFdQueryAttr,
  [Cmd.MapLookupBatch]: uapi.MapBatchAttr,
  [Cmd.MapLookupAndDeleteBatch]: uapi.MapBatchAttr,
  [Cmd.MapUpdateBatch]: uapi.MapBatchAttr,
  [Cmd.MapDeleteBatch]: uapi.MapBatchAttr,
  [Cmd.LinkCreate]: uapi.LinkCreateAttr,
  [Cmd.LinkUpdate]: uapi.LinkUpdateAttr,
  [Cmd.EnableStats]: uapi.EnableStatsAttr,
  [Cmd.IterCreate]: uapi.IterCreateAttr,
  [Cmd.LinkDetach]: uapi.LinkDetachAttr,
  [Cmd.ProgBindMap]: uapi.ProgBindMapAttr,
  [Cmd.TokenCreate]: uapi.TokenCreateAttr,
  [Cmd.ProgStreamReadByFd]: uapi.ProgStreamReadAttr,
};

const ptrOffsets = (layout: Layout): number[] =>
  [...new Set(Object.values(layout.fields).flatMap((f) => (f.type === 'ptr' ? [f.offset] : [])))].sort(
    (a, b) => a - b,
  );
const camel = (c: string): string => c.replace(/[._]([a-z])/g, (_, ch: string) => ch.toUpperCase());
const offsets = (fields: readonly { offset: number }[]): number[] =>
  [...new Set(fields.map((f) => f.offset))].sort((a, b) => a - b);

/** Every native field name is the uapi field (camelCase, flattened) at the same offset. */
function expectNamesAgree(layout: Layout, fields: readonly { offset: number; name: string }[]): void {
  for (const f of fields) {
    const u = layout.fields[camel(f.name)];
    expect(u, `${layout.name}: ${f.name}`).toMatchObject({ offset: f.offset, type: 'ptr' });
  }
}

describe('native pointer tables agree with @ebpf/uapi', () => {
  it('knows every command of this uapi', () => {
    const cmds = Object.values(Cmd) as number[];
    expect(commandCount).toBe(Math.max(...cmds) + 1);
    for (const [name, value] of Object.entries(Cmd)) {
      expect(commandName(value as number)).toBe(uapi.cNameOf(Cmd, value as number) ?? `BPF_${name}`);
    }
  });

  for (let cmd = 0; cmd < commandCount; cmd++) {
    it(`${commandName(cmd)}: pointer offsets and attr size`, () => {
      const layout = layoutOf[cmd];
      expect(layout, `a layout for ${commandName(cmd)}`).toBeDefined();
      if (!layout) return;
      expect(attrSize(cmd)).toBeLessThanOrEqual(layout.size);
      const native =
        cmd === Cmd.LinkCreate
          ? [0, 28, 42, 48, 56, 57].flatMap((attachType) => pointerFields(cmd, attachType))
          : pointerFields(cmd);
      expectNamesAgree(layout, native);
      if (cmd === Cmd.MapDeleteElem) expect(offsets(native)).toEqual([8]);
      else if (cmd === Cmd.MapFreeze) expect(offsets(native)).toEqual([]);
      else expect(offsets(native)).toEqual(ptrOffsets(layout));
    });
  }

  it('attr sizes match the layouts where the command uses the whole struct', () => {
    for (const cmd of [
      Cmd.MapCreate,
      Cmd.ProgLoad,
      Cmd.ProgTestRun,
      Cmd.MapLookupBatch,
      Cmd.LinkCreate,
      Cmd.ProgQuery,
    ]) {
      expect(attrSize(cmd), commandName(cmd)).toBe(layoutOf[cmd]?.size);
    }
  });

  it("the test runner's attr struct: every field at TestRunAttr's offset", () => {
    const fields = testRunFields();
    expect(fields.map((f) => camel(f.name)).sort()).toEqual(Object.keys(uapi.TestRunAttr.fields).sort());
    for (const f of fields) {
      expect(
        uapi.TestRunAttr.fields[camel(f.name) as keyof typeof uapi.TestRunAttr.fields],
        f.name,
      ).toMatchObject({
        offset: f.offset,
      });
    }
  });

  it('info structs: nested pointer offsets', () => {
    const prog = infoPointerFields('prog');
    expectNamesAgree(uapi.ProgInfo, prog);
    expect(offsets(prog)).toEqual(ptrOffsets(uapi.ProgInfo));
    // bpf_map_info.hash (6.18) is a user pointer: the kernel copies the map's SHA-256 to it.
    expect(uapi.MapInfo.fields.hash).toMatchObject({ offset: 88, type: 'ptr' });
    expect(offsets(infoPointerFields('map'))).toEqual(ptrOffsets(uapi.MapInfo));
    expect(offsets(infoPointerFields('btf'))).toEqual(ptrOffsets(uapi.BtfInfo));
    const link = [1, 4, 8, 12].flatMap((type) => infoPointerFields('link', type));
    for (const perf of [1, 3, 5]) link.push(...infoPointerFields('link', 7, perf));
    expectNamesAgree(uapi.LinkInfo, link);
    expect(offsets(link)).toEqual(ptrOffsets(uapi.LinkInfo));
    expect(infoPointerFields('link', 7, 6)).toEqual([]); // perf "event" links carry no name
  });
});
