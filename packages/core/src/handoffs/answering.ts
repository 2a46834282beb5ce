import { contextRow } from '../context/contextRows.js';
import { answerWords, entryDraft, wordsBody } from '../context/entries.js';
import type { JsonValue } from '../crypto/canonical.js';
import { BatonError, ErrorCode } from '../errors.js';
import type { Scope } from '../scope.js';
import { idString, jsonValue, parseInput } from '../validation.js';
import { getHandoff, type Handoff, questionHandoffFor } from './handoffRead.js';

/**
 * Answers a question handoff asked of the scope's identity (`handoffs.answer`), or the one
 * asking ContextLog entry `id`: validated against its options or schema, recorded as an
 * `answer` entry and a `handoff.answered` in one commit.
 */
export async function answerQuestionHandoff(
  scope: Scope,
  id: string,
  value: JsonValue,
): Promise<Handoff> {
  parseInput(idString, id, 'handoffs.answer(id)');
  if (id.startsWith('ctx_')) {
    await scope.catchUp();
    const asked = await questionHandoffFor(scope, id);
    if (!asked)
      throw new BatonError(
        ErrorCode.NOT_FOUND,
        `handoffs.answer: no question handoff waiting on ${scope.actor} asks ${id}. Answer a ContextLog question with context.answer(${id}, …).`,
      );
    id = asked;
  }
  const v = parseInput(jsonValue, value, 'handoffs.answer(value)');
  await scope.commit({
    plan: async (_view, ids) => {
      const h = await getHandoff(scope, id);
      if (h.kind !== 'question' || h.status !== 'offered' || !h.to.includes(scope.actor)) {
        throw new BatonError(
          ErrorCode.INVALID_STATE,
          `Question ${id} is ${h.status} and not waiting on ${scope.actor}.`,
        );
      }
      const q = h.question!;
      if (q.schema)
        parseInput(scope.schema(q.schema)!, v, `handoffs.answer: \`value\` (schema ${q.schema})`);
      else if (q.options && !(typeof v === 'string' && q.options.includes(v))) {
        throw new BatonError(
          ErrorCode.VALIDATION,
          `handoffs.answer: \`value\` must be one of ${q.options.map((x) => JSON.stringify(x)).join(', ')}.`,
        );
      }
      const entry = ids.next('ctx');
      const body = wordsBody(answerWords(v));
      const question = await contextRow(scope.rows, q.entry);
      const answer = entryDraft(
        { id: entry, type: 'answer', about: question?.about ?? [], body, answers: q.entry },
        [q.entry],
      );
      return {
        drafts: [
          answer,
          { type: 'handoff.answered', data: { id, value: v, entry }, refs: [id, h.from] },
        ],
        blobs: [body],
      };
    },
  });
  return getHandoff(scope, id);
}
