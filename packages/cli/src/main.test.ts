import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { describeError, errorJson } from './errors.ts';
import { asRootCommand, CliError, ExitCode } from './exit-codes.ts';
import { wantsColor } from './io.ts';
import { createProgram, main, withoutMeaninglessDashDash } from './main.ts';
import { memoryIo } from './testing.ts';

async function run(...argv: string[]) {
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, out: io.stdoutText(), err: io.stderrText() };
}

describe('ebpf command line', () => {
  it('prints help with the command tree and the exit codes, exit 0', async () => {
    const { code, out } = await run('--help');
    expect(code).toBe(ExitCode.Ok);
    for (const cmd of ['prog', 'map', 'link', 'asm', 'disasm', 'run', 'feature', 'demo'])
      expect(out).toContain(cmd);
    expect(out).toContain('Exit codes:');
    expect(out).toContain('77');
  });

  /** Every command path of the tree: `prog`, `prog list`, ..., `demo xdp`. */
  function commandPaths(): string[][] {
    const paths: string[][] = [];
    const walk = (command: Command, prefix: string[]) => {
      for (const sub of command.commands) {
        if (sub.name() === 'help') continue;
        paths.push([...prefix, sub.name()]);
        walk(sub, [...prefix, sub.name()]);
      }
    };
    walk(createProgram(memoryIo()), []);
    return paths;
  }

  /** What `ebpf --json` listings the issue names: each must exist, and take --json. */
  const listings = [
    'prog list',
    'prog show',
    'prog dump',
    'map list',
    'map show',
    'map dump',
    'link list',
    'link show',
  ];

  it('has the commands the issue names', () => {
    const names = commandPaths().map((p) => p.join(' '));
    for (const name of [...listings, 'asm', 'disasm', 'run', 'feature', 'demo xdp', 'gen vmlinux'])
      expect(names).toContain(name);
  });

  it.each(commandPaths())('has --help on every command: %s %s', async (...path) => {
    const { code, out } = await run(...path, '--help');
    expect(code).toBe(ExitCode.Ok);
    expect(out).toMatch(new RegExp(`^Usage: ebpf ${path.join(' ')}(\\|\\w+)? `)); // `list|ls`
  });

  it.each([...listings, 'feature', 'run', 'demo xdp'])('%s takes --json', async (path) => {
    const { out } = await run(...path.split(' '), '--help');
    expect(out).toContain('--json');
  });

  it('drops a `--` before the options of a command without operands (pnpm start -- --duration 3)', () => {
    const program = createProgram(memoryIo());
    expect(withoutMeaninglessDashDash(program, ['demo', 'xdp', '--', '--duration', '3'])).toEqual([
      'demo',
      'xdp',
      '--duration',
      '3',
    ]);
    expect(withoutMeaninglessDashDash(program, ['prog', 'ls', '--', '--json'])).toEqual([
      'prog',
      'ls',
      '--json',
    ]);
    expect(withoutMeaninglessDashDash(program, ['asm', '--', '-odd.s'])).toEqual(['asm', '--', '-odd.s']);
    expect(withoutMeaninglessDashDash(program, ['--', 'prog'])).toEqual(['--', 'prog']);
  });

  it('prints the version of its package.json', async () => {
    const { code, out } = await run('--version');
    expect(code).toBe(0);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(out.trim()).toBe(pkg.version);
  });

  it('reports an error as a JSON object on stdout with --json, keeping the exit code', async () => {
    const { code, out, err } = await run('asm', '/nonexistent/prog.s', '--json');
    expect(code).toBe(ExitCode.NotFound);
    expect(err).toBe('');
    const { error } = JSON.parse(out);
    expect(error).toMatchObject({ exitCode: ExitCode.NotFound, details: [] });
    expect(error.message).toContain('cannot read /nonexistent/prog.s: ENOENT');
  });

  it('reports a usage error as JSON with --json', async () => {
    const { code, out } = await run('prog', 'list', '--json', '--bogus');
    expect(code).toBe(ExitCode.Usage);
    const { error } = JSON.parse(out);
    expect(error).toMatchObject({ name: 'UsageError', exitCode: ExitCode.Usage });
    expect(error.message).toContain('--bogus');
  });

  it('puts the errno name, the command and the advice of an error in its JSON', () => {
    const error = Object.assign(new Error('refused'), {
      name: 'KernelRejectedError',
      code: 'EINVAL',
      errno: 22,
      command: 'BPF_MAP_CREATE',
    });
    expect(errorJson(error, ExitCode.Failure, ['try this'])).toEqual({
      name: 'KernelRejectedError',
      message: 'refused',
      exitCode: ExitCode.Failure,
      details: ['try this'],
      code: 'EINVAL',
      errno: 22,
      command: 'BPF_MAP_CREATE',
    });
  });

  it.each([
    [['frobnicate']],
    [['prog', 'list', '--bogus']],
    [['prog', 'show', '1', '2']],
    [['prog', 'show', 'abc']],
    [['map', 'dump', '0']],
    [['run', 'x.s', '--repeat', '-1']],
    [['demo', 'xdp', '--duration', 'soon']],
    [['prog']],
    [['prog', 'dump', '1', '--jited', '--xlated']],
  ])('exits 2 on a usage error: %j', async (argv) => {
    const { code, err } = await run(...argv);
    expect(code).toBe(ExitCode.Usage);
    expect(err).not.toBe('');
  });

  it('exits 3 when an input file is missing', async () => {
    const { code, err } = await run('asm', '/nonexistent/prog.s');
    expect(code).toBe(ExitCode.NotFound);
    expect(err).toContain('cannot read /nonexistent/prog.s: ENOENT');
  });
});

describe('errors to exit codes', () => {
  const named = (name: string, extra: object = {}) => Object.assign(new Error('x'), { name }, extra);
  it.each([
    [new CliError('x', ExitCode.NotFound), ExitCode.NotFound],
    [named('PermissionError'), ExitCode.NoPermission],
    [named('BpfError', { code: 'EPERM' }), ExitCode.NoPermission],
    [named('NotSupportedError'), ExitCode.NotSupported],
    [named('NotFoundError'), ExitCode.NotFound],
    [named('VerifierError'), ExitCode.Rejected],
    [named('AssembleError'), ExitCode.Rejected],
    [new Error('boom'), ExitCode.Failure],
    ['a string', ExitCode.Failure],
  ])('%s -> %i', (error, code) => {
    expect(describeError(error).exitCode).toBe(code);
  });

  it('says how to run the same command as root, pnpm start included', () => {
    expect(asRootCommand({})).toBe('sudo ebpf ...');
    expect(
      asRootCommand({ npm_lifecycle_event: 'start', npm_config_user_agent: 'pnpm/10.34.9 npm/? node/v20' }),
    ).toBe('sudo env "PATH=$PATH" pnpm start');
    expect(asRootCommand({ npm_lifecycle_event: 'demo' })).toBe('sudo env "PATH=$PATH" npm run demo');
  });

  it('tells how to get privileges', () => {
    expect(describeError(named('PermissionError')).details.join('\n')).toMatch(/root[\s\S]*setcap cap_bpf/);
  });
});

describe('colour', () => {
  it('is on for a TTY only, never with NO_COLOR, always with FORCE_COLOR', () => {
    expect(wantsColor({ isTTY: true }, {})).toBe(true);
    expect(wantsColor({ isTTY: false }, {})).toBe(false);
    expect(wantsColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColor({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(wantsColor({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });
});
