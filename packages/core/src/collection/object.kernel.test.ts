/** Collection.load on objects clang builds: variables through their sections, per-program problems, bad input. */
import { readFileSync } from 'node:fs';
import { ObjectError } from '@ebpf/object';
import { openFdCount, requireKernel, thrown } from '@ebpf/test-utils';
import { buildObject, readBytes, Scratch } from '@ebpf/test-utils/clang';
import { afterAll, expect, it } from 'vitest';
import { InvalidArgumentError, NotSupportedError } from '../errors.ts';
import { VerifierError } from '../program/verifier-error.ts';
import { Collection } from './collection.ts';
import { CollectionSpec } from './spec.ts';

const scratch = new Scratch();
afterAll(() => scratch.dispose());
const packet = new Uint8Array(64);

requireKernel('Collection.load of clang objects (kernel)', () => {
  it('sets const volatile configuration before load and reads and writes globals after', () => {
    const spec = CollectionSpec.fromFile(buildObject(scratch, 'globals-of-every-section', 'bpfel'));
    expect(spec.name).toBe('globals-of-every-section');
    spec.variables.threshold?.set(200);
    using coll = Collection.load(spec);
    const { counter, threshold, offset_by, enabled, total } = coll.variables;
    expect([counter?.get(), threshold?.get(), offset_by?.get(), enabled?.get()]).toEqual([5, 200, -3, true]);
    // total += 200 - 3 + 9 + 'e' exceeds 100: XDP_DROP (1); counter counts the run.
    expect(coll.programs.reads_globals?.run({ data: packet }).retval).toBe(1);
    expect(counter?.get()).toBe(6);
    expect(total?.get()).toBe(200n - 3n + 9n + 101n);
    total?.set(0n);
    counter?.set(-1);
    expect(counter?.get()).toBe(-1);
    expect(threshold?.readOnly).toBe(true);
    expect(() => threshold?.set(1)).toThrow(
      /frozen at load; set it on spec\.variables\.threshold before Collection\.load/,
    );
  });

  it('loads the sound programs of an object whose other programs have problems, and throws the problem when asked to load one', () => {
    const path = buildObject(scratch, 'per-program-problems', 'bpfel');
    const spec = CollectionSpec.fromFile(path);
    const broken = Object.keys(spec.programs).filter((name) => spec.programs[name]?.problem !== undefined);
    expect(broken.length).toBeGreaterThan(0);
    {
      using coll = Collection.load(spec, {
        programs: Object.fromEntries(broken.map((n) => [n, { load: false }])),
      });
      expect(coll.programs.good_program?.run({ data: packet }).retval).toBe(2);
    }
    const before = openFdCount();
    const error = thrown(() => Collection.load(path));
    expect(error).toBeInstanceOf(ObjectError);
    expect(openFdCount()).toBe(before);
  });

  it.each(['legacy-maps', 'cross-section-calls'])(
    'loads %s, which libbpf 1.x refuses and the kernel takes',
    (name) => {
      const spec = CollectionSpec.fromFile(buildObject(scratch, name, 'bpfel'));
      using coll = Collection.load(spec);
      expect(Object.keys(coll.programs).sort()).toEqual(Object.keys(spec.programs).sort());
      expect(Object.keys(coll.maps).sort()).toEqual(Object.keys(spec.maps).sort());
    },
  );

  it('runs programs calling static functions of their own section', () => {
    using coll = Collection.load(buildObject(scratch, 'static-subprograms', 'bpfel'));
    expect(Object.keys(coll.programs).sort()).toEqual(['second_caller', 'static_caller']);
    // (64 * 5) + 7 = 327: XDP_DROP (1); otherwise XDP_PASS (2).
    expect(coll.programs.static_caller?.run({ data: packet }).retval).toBe(1);
    expect(coll.programs.static_caller?.run({ data: new Uint8Array(32) }).retval).toBe(2);
    expect(coll.programs.second_caller?.run({ data: packet }).retval).toBe(2);
  });

  it('loads a typed ksym variable only where kallsyms lists variables, else says why', () => {
    const path = buildObject(scratch, 'externs-kconfig-ksym', 'bpfel');
    const listsVariables = / bpf_prog_active$/m.test(readFileSync('/proc/kallsyms', 'utf8'));
    const before = openFdCount();
    const load = () => Collection.load(path, { programs: { reads_kconfig: { load: false } } });
    if (listsVariables) {
      using coll = load();
      expect(coll.programs.reads_typed_ksym).toBeDefined();
    } else {
      const error = thrown(load);
      expect(error).toBeInstanceOf(NotSupportedError);
      expect(error.message).toMatch(
        /program reads_typed_ksym .*: typed __ksym variables .* not supported by this kernel: .*CONFIG_KALLSYMS_ALL/,
      );
    }
    expect(openFdCount()).toBe(before);
  });

  it('names the C source line of the instruction the verifier refuses', () => {
    const before = openFdCount();
    const error = thrown(() => Collection.load(buildObject(scratch, 'verifier-rejects', 'bpfel')));
    expect(error).toBeInstanceOf(VerifierError);
    expect(error.source).toMatch(
      /^verifier-rejects\.c:9:\d+: return \*\(__u32 \*\)data; \/\/ the rejected read$/,
    );
    expect(error.message).toMatch(
      /^object verifier-rejects: program reads_unchecked \(section xdp\): verifier rejected .* \(at verifier-rejects\.c:9:/,
    );
    expect(openFdCount()).toBe(before);
  });

  it('refuses what is not an object with an ObjectError, and a missing file with a clear message', () => {
    expect(() => Collection.load(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1]))).toThrow(ObjectError);
    expect(thrown(() => Collection.load('/nonexistent/prog.o'))).toBeInstanceOf(InvalidArgumentError);
    expect(() => Collection.load('/nonexistent/prog.o')).toThrow(
      /cannot read the object \/nonexistent\/prog\.o \(ENOENT\)/,
    );
    expect(() =>
      Collection.load(readBytes(buildObject(scratch, 'elf-basics', 'bpfel')), { programs: { nope: {} } }),
    ).toThrow(/has no program nope/);
  });
});
