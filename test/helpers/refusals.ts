import type { ExecutionResult } from 'graphql';

/** Asserts a single domain refusal with this code and (exactly) this field, and no data. */
export function expectRefusal(res: ExecutionResult<unknown>, code: string, field?: string) {
  expect(res.errors).toHaveLength(1);
  const ext = res.errors![0]!.extensions as { code?: string; field?: string };
  expect({ code: ext.code, field: ext.field }).toEqual({ code, field });
  expect(res.data ?? null).toBeNull();
}

/**
 * Runs an operation that must be refused (as expectRefusal checks) and asserts that it stored nothing:
 * `rows` (row counts, say) reads the same after it as before.
 */
export async function expectRefusedUnchanged(rows: () => Promise<unknown>, run: () => Promise<ExecutionResult<unknown>>, code: string, field?: string) {
  const before = await rows();
  expectRefusal(await run(), code, field);
  expect(await rows()).toEqual(before);
}
