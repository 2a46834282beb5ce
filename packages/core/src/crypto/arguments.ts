import { BatonError, ErrorCode } from '../errors.js';

/**
 * @internal True for a `Uint8Array` (Node's `Buffer` included), also one made in another
 * realm (a worker, a `vm` context), where `instanceof` is false.
 */
export function isBytes(value: unknown): value is Uint8Array {
  return (
    value instanceof Uint8Array ||
    (ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Uint8Array]')
  );
}

/**
 * @internal What a value is, in a few words, for an error message: never throws (not even
 * on a revoked proxy or an object without a prototype), and never long.
 */
export function describeValue(value: unknown): string {
  try {
    switch (typeof value) {
      case 'undefined':
        return 'undefined';
      case 'string':
        return value.length > 40
          ? `a string of ${value.length} characters`
          : `the string ${JSON.stringify(value)}`;
      case 'number':
      case 'boolean':
      case 'bigint':
        return `${typeof value} ${String(value)}${typeof value === 'bigint' ? 'n' : ''}`;
      case 'symbol':
        return 'a symbol';
      case 'function':
        return 'a function';
      default: {
        if (value === null) return 'null';
        if (Array.isArray(value))
          return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
        const proto = Object.getPrototypeOf(value);
        if (proto === null) return 'an object without a prototype';
        if (proto === Object.prototype) return 'a plain object';
        const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
        const a = typeof name === 'string' && name ? `a ${name}` : 'an object';
        return ArrayBuffer.isView(value) && 'length' in value
          ? `${a} of length ${(value as { length: number }).length}`
          : a;
      }
    }
  } catch {
    return 'a value that cannot be inspected';
  }
}

/**
 * @internal The `VALIDATION` error of an exported helper given a bad argument:
 * `` <fn>: `<arg>` must be <mustBe> (got <what it got>). <advice> ``
 */
export function badArgument(
  fn: string,
  arg: string,
  mustBe: string,
  got: unknown,
  options: { advice?: string; cause?: unknown } = {},
): BatonError {
  return new BatonError(
    ErrorCode.VALIDATION,
    `${fn}: \`${arg}\` must be ${mustBe} (got ${describeValue(got)}).${options.advice ? ` ${options.advice}` : ''}`,
    { cause: options.cause, details: { function: fn, field: arg } },
  );
}
