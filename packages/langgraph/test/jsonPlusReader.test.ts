import { isDeepStrictEqual } from 'node:util';
import { AIMessage, HumanMessage, SystemMessage, ToolMessage } from '@langchain/core/messages';
import { JsonPlusSerializer, type SerializerProtocol } from '@langchain/langgraph-checkpoint';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonPlusReader } from '../src/jsonPlusReader.js';

const serde = new JsonPlusSerializer();
const read = jsonPlusReader(serde)!;
const encoder = new TextEncoder();

/**
 * Deep equality, strict (prototypes, -0, undefined entries), where two prototypes that a
 * `__proto__` key set count as equal when they are equal values: each read makes its own.
 */
function same(a: unknown, b: unknown): boolean {
  if (isDeepStrictEqual(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const [pa, pb] = [Object.getPrototypeOf(a), Object.getPrototypeOf(b)];
  const builtin = (p: unknown) => p === null || p === Object.prototype || p === Array.prototype;
  if (pa !== pb && (builtin(pa) || builtin(pb) || !same(pa, pb))) return false;
  const [ka, kb] = [Reflect.ownKeys(a), Reflect.ownKeys(b)];
  return (
    ka.length === kb.length &&
    ka.every(
      (k, i) =>
        k === kb[i] &&
        same((a as Record<PropertyKey, unknown>)[k], (b as Record<PropertyKey, unknown>)[k]),
    )
  );
}

/** What the stock serializer and the reader make of `bytes`: values, or the errors thrown. */
async function both(bytes: Uint8Array) {
  const settle = (p: Promise<unknown>) =>
    p.then(
      (value) => ({ value }),
      (error: unknown) => ({ error: String(error) }),
    );
  return { stock: await settle(serde.loadsTyped('json', bytes)), ours: await settle(read(bytes)) };
}

const text = fc.oneof(fc.string(), fc.constantFrom('lc', '"lc":1', '__proto__', 'constructor'));
const key = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('lc', 'type', 'id', 'kwargs', '__proto__', 'value', '0', '10'),
);
const message = fc.oneof(
  text.map((content) => new HumanMessage(content)),
  fc.tuple(text, fc.nat()).map(
    ([content, n]) =>
      new AIMessage({
        content,
        tool_calls: n % 2 ? [{ id: `call-${n}`, name: 'search', args: { q: content } }] : [],
        usage_metadata: { input_tokens: n, output_tokens: 2, total_tokens: n + 2 },
        response_metadata: { model: 'scripted' },
      }),
  ),
  text.map((content) => new SystemMessage(content)),
  fc
    .tuple(text, fc.string())
    .map(([content, id]) => new ToolMessage({ content, tool_call_id: id || 'call-0' })),
);
/** Values a graph's state may hold: JSON, the serializer's special values, messages, nested. */
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null), text),
    fc.constant(undefined),
    message,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    fc.array(fc.integer(), { maxLength: 3 }).map((xs) => new Set(xs)),
    fc.array(fc.tuple(fc.string(), fc.integer()), { maxLength: 3 }).map((xs) => new Map(xs)),
    fc.uint8Array({ maxLength: 4 }),
    fc.string().map((m) => new Error(m)),
    // A message holding another value in its kwargs, as a tool message's artifact may.
    tie('value').map((inner) => new AIMessage({ content: 'x', additional_kwargs: { inner } })),
  ),
}));

describe('jsonPlusReader', () => {
  it('gives what the stock serializer gives, for any value it wrote', async () => {
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const [type, bytes] = await serde.dumpsTyped(v);
        fc.pre(type === 'json');
        const { stock, ours } = await both(bytes);
        expect(same(ours, stock)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('gives what the stock serializer gives for the records it treats specially, and texts no serializer wrote', async () => {
    const texts = [
      '{"lc":2,"type":"undefined"}',
      '[1,{"lc":2,"type":"undefined"},3]',
      '{"lc":2,"type":"constructor","id":["Set"],"method":null,"args":[[1,2]],"kwargs":{}}',
      '{"lc":2,"type":"constructor","id":["Nope"],"args":[]}',
      '{"lc":2,"type":"delta_snapshot","value":[1]}',
      '{"lc":1,"type":"secret","id":["OPENAI_API_KEY"]}',
      '{"lc":1,"type":"not_implemented","id":["x"]}',
      '{"lc":1,"type":"constructor","id":["langchain_core","messages","AIMessage"],"kwargs":{"content":"hi","additional_kwargs":{"gone":{"lc":2,"type":"undefined"}}}}',
      '{"lc":1,"type":"constructor","id":["langchain_core","messages","HumanMessage"],"kwargs":{"content":"plain"}}',
      '{"lc":1,"type":"constructor","id":["not","a","known","Class"],"kwargs":{}}',
      '{"__proto__":{"polluted":true},"a":1}',
      '{"a":{"__proto__":[]}}',
      '-0',
      '{"a":-0,"b":[-0]}',
      '{"lc":"1","type":"constructor","id":[]}',
      '"just a string"',
      '[]',
    ];
    for (const t of texts) {
      const { stock, ours } = await both(encoder.encode(t));
      expect(same(ours, stock), t).toBe(true);
    }
  });

  it('is used only for the stock serializer itself, not a subclass or an instance with methods of its own', () => {
    class Custom extends JsonPlusSerializer {}
    const patched = new JsonPlusSerializer();
    patched.loadsTyped = async (type, data) => serde.loadsTyped(type, data);
    const other: SerializerProtocol = {
      dumpsTyped: (v) => serde.dumpsTyped(v),
      loadsTyped: (t, d) => serde.loadsTyped(t, d),
    };
    expect(jsonPlusReader(new JsonPlusSerializer())).toBeTypeOf('function');
    expect(jsonPlusReader(new Custom())).toBeUndefined();
    expect(jsonPlusReader(patched)).toBeUndefined();
    expect(jsonPlusReader(other)).toBeUndefined();
  });
});
