#!/usr/bin/env node
// Lints every published package (the public ones under packages/) the way a registry user would
// see it: publint in strict mode on the files `pnpm pack` would publish (so `dist` must be built,
// which the root `lint` script does first), plus the workspace's own packaging rules that publint
// does not know: an `exports` map with `types` and `default` into dist, deep imports blocked with
// `"./internal/*": null`, `files`, `repository.directory`, public `publishConfig`, `sideEffects`.
// Pending changesets (.changeset/*.md) must parse and name only published packages: a broken
// frontmatter would otherwise surface only at release time.
// Prints one line per problem and exits non-zero when there is any.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const root = new URL('..', import.meta.url).pathname;

/** The workspace's packaging rules for `pkg` (at `dir`), as a list of problems. */
function conventionProblems(pkg, dir) {
  const problems = [];
  const rootExport = pkg.exports?.['.'];
  if (typeof rootExport !== 'object' || rootExport === null) {
    problems.push('exports["."] must be an object with "types" and "default" conditions');
  } else {
    if (!rootExport.types?.startsWith('./dist/')) problems.push('exports["."].types must point into ./dist');
    if (!rootExport.default?.startsWith('./dist/'))
      problems.push('exports["."].default must point into ./dist');
  }
  if (pkg.exports?.['./internal/*'] !== null)
    problems.push('exports must block deep imports: "./internal/*": null');
  if (pkg.exports?.['./package.json'] !== './package.json')
    problems.push('exports must expose "./package.json"');
  if (pkg.type !== 'module') problems.push('"type" must be "module"');
  if (pkg.sideEffects === undefined) problems.push('"sideEffects" must be declared');
  for (const entry of ['dist', 'README.md', 'CHANGELOG.md']) {
    if (!pkg.files?.includes(entry)) problems.push(`"files" must list ${entry}`);
  }
  if (pkg.repository?.directory !== relative(root, dir)) {
    problems.push(`repository.directory must be "${relative(root, dir)}"`);
  }
  if (pkg.publishConfig?.access !== 'public') problems.push('publishConfig.access must be "public"');
  if (!pkg.engines?.node) problems.push('engines.node must be set');
  if (!pkg.license) problems.push('"license" must be set');
  return problems;
}

/** Problems of one changeset file: frontmatter of `'<published package>': patch|minor|major` lines, then a summary. */
function changesetProblems(text, published) {
  const match = /^---\n([\s\S]*?)\n---\n+(\S[\s\S]*)$/.exec(text);
  if (!match) return ['must start with a frontmatter block between two "---" lines, then a summary'];
  const problems = [];
  for (const line of match[1].split('\n')) {
    const release = /^(['"])([^'"]+)\1:\s*(patch|minor|major)\s*$/.exec(line);
    if (!release) problems.push(`frontmatter line "${line}" is not '<package>': patch|minor|major`);
    else if (!published.has(release[2]))
      problems.push(`names ${release[2]}, which is not a published package`);
  }
  return problems;
}

let failures = 0;
const published = new Set();
const packagesDir = join(root, 'packages');
for (const name of readdirSync(packagesDir).sort()) {
  const dir = join(packagesDir, name);
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch {
    continue; // not a package
  }
  if (pkg.private) continue;
  published.add(pkg.name);
  const problems = conventionProblems(pkg, dir);
  const { messages } = await publint({ pkgDir: dir, strict: true, pack: 'pnpm' });
  for (const m of messages) {
    if (m.type !== 'suggestion') problems.push(`publint ${m.type}: ${formatMessage(m, pkg) ?? m.code}`);
  }
  for (const p of problems) console.error(`${pkg.name}: ${p}`);
  console.log(`${pkg.name}: ${problems.length === 0 ? 'ok' : `${problems.length} problem(s)`}`);
  failures += problems.length;
}
const changesetDir = join(root, '.changeset');
for (const file of readdirSync(changesetDir).sort()) {
  if (!file.endsWith('.md') || file === 'README.md') continue;
  const problems = changesetProblems(readFileSync(join(changesetDir, file), 'utf8'), published);
  for (const p of problems) console.error(`.changeset/${file}: ${p}`);
  failures += problems.length;
}
process.exit(failures === 0 ? 0 : 1);
