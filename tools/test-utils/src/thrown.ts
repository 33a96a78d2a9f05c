/**
 * The error `fn` throws, with its fields (`code`, `feature`, `log`...) for assertions. When `fn`
 * returns instead, what it returned is disposed (a program or map loaded by mistake must not
 * leak its fd) and the test fails.
 */
export function thrown(fn: () => unknown): Error & Record<string, unknown> {
  let result: unknown;
  try {
    result = fn();
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  (result as Partial<Disposable> | null | undefined)?.[Symbol.dispose]?.();
  throw new Error(`expected an error, but it returned ${String(result)}`);
}
