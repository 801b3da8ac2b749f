import { strict as assert } from "node:assert";

type CodedError = abstract new (...args: any[]) => Error & { code: string };

/** Run `fn`, which must throw a `type` (ProtocolError, InfraError, …), and return the error's code. */
export function errorCode(type: CodedError, fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof type, `expected ${type.name}, got ${String(e)}`);
    return e.code;
  }
  assert.fail("expected an error");
}
