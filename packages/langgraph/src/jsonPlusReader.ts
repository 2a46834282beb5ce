import { load } from '@langchain/core/load';
import { JsonPlusSerializer, type SerializerProtocol } from '@langchain/langgraph-checkpoint';

const decoder = new TextDecoder();

/** Reads the serialized JSON of one value: what `serde.loadsTyped('json', bytes)` gives. */
export type JsonReader = (bytes: Uint8Array) => Promise<unknown>;

/**
 * A reader of JSON that LangGraph's stock `JsonPlusSerializer` wrote, giving what its
 * `loadsTyped('json', bytes)` gives, with less work; `undefined` for any other serializer
 * (a subclass or one with its own methods included), whose rules this does not know.
 *
 * @remarks
 * `JsonPlusSerializer` parses the text, then walks every value of it asynchronously (one
 * await per object entry), copying plain data and handing each LangChain-serialized object
 * (`lc: 1`, `type: 'constructor'`) to `load` from `@langchain/core/load` as text. On the
 * checkpoints of bench L1 that walk is most of a read. This reader walks the parsed value
 * once, synchronously, and hands the same objects to the same `load`: plain data it keeps as
 * parsed (a fresh value, as the walk's copy is). Wherever the serializer's rules could make
 * something else — any other object with an `lc` key (its `undefined`, `Set`, `Map`, … records),
 * one nested inside a LangChain object, a `__proto__` key — it leaves the whole value to
 * `serde.loadsTyped`.
 */
export function jsonPlusReader(serde: SerializerProtocol): JsonReader | undefined {
  if (
    !(serde instanceof JsonPlusSerializer) ||
    Object.getPrototypeOf(serde) !== JsonPlusSerializer.prototype ||
    Object.keys(serde).length > 0
  ) {
    return undefined;
  }
  return async (bytes) => {
    const value: unknown = JSON.parse(decoder.decode(bytes));
    const found: Found[] = [];
    if (!plan(value, found)) return serde.loadsTyped('json', bytes);
    if (found.length === 0) return value;
    const loaded = await Promise.all(found.map((f) => load(JSON.stringify(f.node))));
    let root = value;
    found.forEach((f, i) => {
      if (f.parent === undefined) root = loaded[i];
      else f.parent[f.key] = loaded[i];
    });
    return root;
  };
}

/** A LangChain-serialized object to load, and where its result goes. */
interface Found {
  node: object;
  parent: Record<string | number, unknown> | undefined;
  key: string | number;
}

/**
 * Lists the LangChain objects in `node` (into `found`); false when some part of it is one
 * the stock serializer could turn into something other than a plain copy or `load`'s result.
 */
function plan(
  node: unknown,
  found: Found[],
  parent?: Record<string | number, unknown>,
  key: string | number = '',
): boolean {
  if (typeof node !== 'object' || node === null) return true;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      if (!plan(node[i], found, node as unknown as Record<number, unknown>, i)) return false;
    }
    return true;
  }
  const o = node as Record<string, unknown>;
  // JSON.parse makes `__proto__` an own key; the serializer's copy would set the prototype.
  if (Object.hasOwn(o, '__proto__')) return false;
  if (Object.hasOwn(o, 'lc')) {
    if (o.lc !== 1 || o.type !== 'constructor' || !Array.isArray(o.id)) return false;
    for (const k in o) if (!isPlain(o[k])) return false;
    found.push({ node: o, parent, key });
    return true;
  }
  for (const k in o) if (!plan(o[k], found, o, k)) return false;
  return true;
}

/** True when no object inside `node` has an `lc` or a `__proto__` key. */
function isPlain(node: unknown): boolean {
  if (typeof node !== 'object' || node === null) return true;
  if (Array.isArray(node)) return node.every(isPlain);
  const o = node as Record<string, unknown>;
  if (Object.hasOwn(o, 'lc') || Object.hasOwn(o, '__proto__')) return false;
  for (const k in o) if (!isPlain(o[k])) return false;
  return true;
}
