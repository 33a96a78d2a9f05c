/**
 * `CollectionSpec` as `@ebpf/core` exports it: `@ebpf/object`'s (pure, browser-safe) with
 * `fromFile`, which reads the file with node:fs and names the object as libbpf does.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CollectionSpec as ObjectCollectionSpec } from '@ebpf/object';
import { InvalidArgumentError } from '../errors.ts';

/** libbpf's object name: the file name up to its first '.' (`prog.bpf.o` is `prog`). */
export const objectName = (path: string): string => basename(path).split('.')[0] ?? '';

/**
 * `@ebpf/object`'s `CollectionSpec` with a Node-only reader of files: `CollectionSpec.fromFile(path)`.
 *
 * @example
 * ```ts
 * import { Collection, CollectionSpec } from '@ebpf/core';
 *
 * const spec = CollectionSpec.fromFile('prog.bpf.o');
 * using collection = Collection.load(spec);
 * console.log(Object.keys(collection.programs), Object.keys(collection.maps));
 * ```
 */
export class CollectionSpec extends ObjectCollectionSpec {
  /** Reads and parses the ELF object at `path` (`CollectionSpec.parse` of its bytes, named after the file). */
  static fromFile(path: string): ObjectCollectionSpec {
    if (typeof path !== 'string' || path === '')
      throw new InvalidArgumentError(
        'CollectionSpec.fromFile takes the path of an ELF object built by clang',
      );
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      const code = (error as { code?: string }).code ?? String(error);
      throw new InvalidArgumentError(`cannot read the object ${path} (${code})`, { cause: error });
    }
    return ObjectCollectionSpec.parse(bytes, { name: objectName(path) });
  }
}
