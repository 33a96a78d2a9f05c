/**
 * freplace: an `ext` program loaded against a global function of a loaded program (its fd and
 * the function's name in its BTF) and attached with attachTracing. Lockdown refuses ext
 * programs at load as it refuses fentry: there the test proves the refusal is named.
 */
import { exit, mov64, R0 } from '@ebpf/asm';
import { BtfBuilder } from '@ebpf/btf';
import { requireKernel, skipUnsupported } from '@ebpf/test-utils';
import { buildObject, Scratch } from '@ebpf/test-utils/clang';
import { BtfFuncLinkage } from '@ebpf/uapi';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BtfHandle } from '../btf/handle.ts';
import { intType } from '../collection/btf-kinds.ts';
import { Collection } from '../collection/collection.ts';
import { InvalidArgumentError, NotFoundError, NotSupportedError } from '../errors.ts';
import { BpfProgram } from '../program/program.ts';
import { attachTracing, TracingLink, trampolinesRefused } from './tracing.ts';

const scratch = new Scratch();
const packet = new Uint8Array(64);
let target: Collection;
let btf: BtfHandle;
let replacement: number;

beforeAll(() => {
  target = Collection.load(buildObject(scratch, 'freplace-target', 'bpfel'));
  // The replacement's BTF: int new_impl(int x), the prototype of the replaced function.
  const b = new BtfBuilder();
  const int = b.add(intType);
  const proto = b.add({ kind: 'func_proto', name: '', returns: int, params: [{ name: 'x', type: int }] });
  replacement = b.add({ kind: 'func', name: 'new_impl', proto, linkage: BtfFuncLinkage.Global });
  btf = BtfHandle.load(b.marshal());
});
afterAll(() => {
  target?.close();
  btf?.close();
  scratch.dispose();
});

/** An ext program returning 7 in place of `fn` of the target's program. */
const loadReplacement = (fn: string | number = 'replaceable') =>
  BpfProgram.load({
    type: 'ext',
    attachTo: { program: target.programs.calls_replaceable as BpfProgram, function: fn },
    instructions: [mov64(R0, 7), exit()],
    license: 'GPL',
    btf: { handle: btf, funcInfo: [{ insn: 0, typeId: replacement }] },
  });

requireKernel('freplace', () => {
  const refused = trampolinesRefused();

  it.runIf(refused !== undefined)('names lockdown as the reason ext programs are refused', () => {
    expect(loadReplacement).toThrow(NotSupportedError);
    expect(loadReplacement).toThrow(
      /ext programs is not supported by this kernel: refused by kernel lockdown/,
    );
  });

  it.skipIf(skipUnsupported(refused, 'trampoline'))('replaces a global function of a loaded program', () => {
    const program = target.programs.calls_replaceable as BpfProgram;
    expect(program.run({ data: packet }).retval).toBe(2);
    using ext = loadReplacement();
    {
      using link = attachTracing(ext);
      expect(link).toBeInstanceOf(TracingLink);
      expect(program.run({ data: packet }).retval).toBe(7);
    }
    expect(program.run({ data: packet }).retval).toBe(2);
  });

  it.skipIf(skipUnsupported(refused, 'trampoline'))(
    'replaces the function of another program at attach',
    () => {
      using other = Collection.load(buildObject(scratch, 'freplace-target', 'bpfel'));
      const program = other.programs.calls_replaceable as BpfProgram;
      using ext = loadReplacement();
      using link = attachTracing(ext, { replace: { program, function: 'replaceable' } });
      expect(program.run({ data: packet }).retval).toBe(7);
      expect(link.info().progId).toBe(ext.id);
    },
  );

  it('takes replace for ext programs only', () => {
    using xdp = BpfProgram.load({ type: 'xdp', instructions: [mov64(R0, 2), exit()], license: 'GPL' });
    const replace = { program: target.programs.calls_replaceable as BpfProgram, function: 'replaceable' };
    expect(() => attachTracing(xdp, { replace })).toThrow(InvalidArgumentError);
    expect(() => attachTracing(xdp, { replace })).toThrow(/replace is for ext \(freplace\) programs/);
  });

  it('finds the replaced function in the target program BTF, and says when it cannot', () => {
    expect(() => loadReplacement('no_such_function')).toThrow(NotFoundError);
    expect(() => loadReplacement('no_such_function')).toThrow(
      /program calls_replaceab\w* has no function no_such_function in its BTF/,
    );
    using bare = BpfProgram.load({ type: 'xdp', instructions: [mov64(R0, 2), exit()], license: 'GPL' });
    const load = (options: object) =>
      BpfProgram.load({
        type: 'ext',
        instructions: [mov64(R0, 7), exit()],
        license: 'GPL',
        ...options,
      } as never);
    expect(() => load({ attachTo: { program: bare, function: 'f' } })).toThrow(InvalidArgumentError);
    expect(() => load({ attachTo: { program: bare, function: 'f' } })).toThrow(/has no BTF/);
    expect(() => load({ attachTo: { program: bare, function: -1 } })).toThrow(
      /function name or a BTF type id/,
    );
    expect(() =>
      BpfProgram.load({
        type: 'xdp',
        attachTo: { program: bare, function: 'f' },
        instructions: [mov64(R0, 2), exit()],
        license: 'GPL',
      }),
    ).toThrow(/for ext \(freplace\) programs/);
  });
});
