import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Actor, CreateIdentityInput, Identity } from '@baton/core';
import { KeyDirectory } from '@baton/core/node';
import { shellArg } from './advice.js';
import { usage } from './output.js';
import type { CliSession } from './session.js';

/** Where `baton id create` takes the new identity's key from. */
export interface NewKeyOptions {
  /** A did:key made by the identity's own process (`baton keygen` there). */
  key?: string;
  /** Make the key in this directory: the identity's own key directory, to hand to its process. */
  keyDir?: string;
  /** Keep the key in this workspace's key directory, on purpose. */
  keyHere?: boolean;
}

/**
 * Creates an identity with its key where the user said — never, unasked, in the workspace's
 * own key directory, where whoever acts as the owner could sign as the agent too — and
 * returns the steps to print.
 */
export async function createIdentity(
  session: CliSession,
  actor: Actor,
  input: Omit<CreateIdentityInput, 'key' | 'generateKey'>,
  o: NewKeyOptions,
): Promise<{ identity: Identity; steps: string[] }> {
  const given = [o.key !== undefined, o.keyDir !== undefined, o.keyHere === true].filter(Boolean);
  const name = shellArg(input.name);
  if (given.length === 0) {
    throw usage(
      [
        `Say where ${input.name}'s private key lives; by default it is not kept beside yours, where whoever acts as you could sign as it too. Either:`,
        `  - it makes its own key, in its own process: \`baton --keys <its key dir> keygen\` there, then here \`baton id create ${name} --key did:key:…\`;`,
        `  - or make it here, into its own directory, and hand that directory to it: \`baton id create ${name} --key-dir <dir>\`;`,
        `  - or keep it in this workspace's key directory (${session.keys.path}) on purpose, to act as it from this terminal: \`baton id create ${name} --key-here\`.`,
      ].join('\n'),
    );
  }
  if (given.length > 1) throw usage('Give one of --key, --key-dir and --key-here, not several.');

  if (o.key !== undefined) {
    const identity = await actor.identities.create({ ...input, key: o.key });
    return {
      identity,
      steps: [
        `Its private key stays with the process that made it. Tell that process its id, ${identity.id}; it acts with`,
        `  baton --keys <its key dir> --as ${identity.id} inbox`,
      ],
    };
  }
  if (o.keyHere) {
    const identity = await actor.identities.create({ ...input, generateKey: true });
    return {
      identity,
      steps: [
        `Its private key is in ${session.keys.fileOf(identity.id)}, beside yours: whoever uses ${session.keys.path} can act as it (\`--as ${name}\`).`,
      ],
    };
  }
  const dir = resolve(session.cwd, o.keyDir!);
  if (dir === resolve(session.keys.path))
    throw usage(
      `--key-dir ${o.keyDir} is this workspace's own key directory; give the identity a directory of its own, or pass --key-here to keep its key there on purpose.`,
    );
  const keys = new KeyDirectory({ path: dir });
  const provisional = `pending-${randomUUID()}`;
  const did = await keys.generate(provisional);
  let identity: Identity;
  try {
    identity = await actor.identities.create({ ...input, key: did });
  } catch (err) {
    // Refused: no key is left behind for an identity that does not exist.
    await keys.discard(provisional, did);
    throw err;
  }
  await keys.assign(provisional, identity.id);
  return {
    identity,
    steps: [
      `Its private key is in ${keys.fileOf(identity.id)} (0600, in ${dir}) — the only copy, not beside yours.`,
      `Hand ${dir} to ${input.name}'s process alone (move it to its machine or user, then delete it here); it acts with`,
      `  baton --keys ${shellArg(dir)} --as ${identity.id} inbox`,
      '(or, in a program, new KeyDirectory({ path }) as the keyring and ws.as(id)).',
    ],
  };
}
