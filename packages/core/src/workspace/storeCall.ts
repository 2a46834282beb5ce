import { storeError } from '../errors.js';

/** Runs a store call, turning what it throws into a `STORE` error naming `what` (a `BatonError` passes as it is). */
export async function storeCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw storeError(what, err);
  }
}
