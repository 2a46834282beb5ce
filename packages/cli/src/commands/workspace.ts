import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { finished } from 'node:stream/promises';
import { BatonError, type Checkpoint, ErrorCode } from '@baton/core';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { shellArg } from '../advice.js';
import { EXIT, usage } from '../output.js';
import type { Runner } from '../runner.js';
import { describeIdentity } from './identities.js';

/** Logs shorter than this verify without a progress bar. */
const PROGRESS_FROM = 2_000;

/** `init`, `whoami`, `use`. */
export function registerWorkspaceCommands(program: Command, run: Runner): void {
  program
    .command('init')
    .description(
      'Create a workspace here: the database, you as its owner, and your key file (0600, never in the database).',
    )
    .requiredOption('--name <name>', 'your name, as others will see it')
    .option('--workspace <name>', 'the workspace\'s name (default: "<name>\'s workspace")')
    .action(
      run(async ({ session, out }, opts: { name: string; workspace?: string }) => {
        session.createHere();
        if (session.exists()) {
          const ws = await session.open({ create: true });
          if (ws.info) {
            throw new BatonError(
              ErrorCode.INVALID_STATE,
              `${session.db} holds the workspace "${ws.info.name}" already. Use it (\`baton whoami\`), or pass --dir (or --db) for a new one.`,
            );
          }
        }
        const ws = await session.open({ create: true });
        const owner = await ws.bootstrap({
          name: opts.name,
          ...(opts.workspace !== undefined ? { workspace: opts.workspace } : {}),
        });
        await session.writeConfig({ as: owner.id });
        out.show(
          { workspace: ws.info, identity: owner, db: session.db, keys: session.keys.path },
          () => {
            out.line(`${out.c.green('✓')} Created ${out.c.bold(ws.info!.name)} in ${session.db}`);
            out.line(`  You are ${out.c.bold(owner.name)} (${owner.id}), its owner.`);
            out.line(
              `  Your key: ${session.keys.fileOf(owner.id)} (only this file can sign as you).`,
            );
          },
        );
        return EXIT.OK;
      }),
    );

  program
    .command('whoami')
    .description('Show the identity in use, the workspace and where its files are.')
    .action(
      run(async ({ session, out }) => {
        const ws = await session.open();
        const me = await session.me();
        out.show({ identity: me, workspace: ws.info, db: session.db }, () => {
          out.line(describeIdentity(out, me));
          out.line(
            `${out.c.dim('workspace')} ${ws.info!.name} ${out.c.dim(`(${ws.info!.id}, ${session.db})`)}`,
          );
        });
        return EXIT.OK;
      }),
    );

  program
    .command('use')
    .description('Act as another identity from now on — one whose own key file is here.')
    .argument('<identity>', 'id or name')
    .action(
      run(async ({ session, out }, ref: string) => {
        await session.open();
        const who = await session.identity(ref);
        await session.requireKey(who);
        await session.writeConfig({ ...(await session.readConfig()), as: who.id });
        out.show({ identity: who }, () =>
          out.line(`${out.c.green('✓')} Now acting as ${out.c.bold(who.name)} (${who.id}).`),
        );
        return EXIT.OK;
      }),
    );
}

/** `keygen`: an identity's key, made in its own process before the identity exists. */
export function registerKeyCommands(program: Command, run: Runner): void {
  program
    .command('keygen')
    .description(
      "Make a key pair in this process's own key directory (--keys or BATON_KEYS) and print its public key, for an owner to register with `baton id create <name> --key <did>`. The private key never leaves the directory.",
    )
    .action(
      run(async ({ session, out, io }) => {
        if (session.options.keys === undefined && !io.env.BATON_KEYS) {
          throw usage(
            "Say where the key goes with --keys <dir> (or BATON_KEYS): this identity's own key directory, which no other identity's process uses — e.g. `baton --keys ~/.drafter-keys keygen`.",
          );
        }
        const dir = session.keys.path;
        // Filed under a provisional name, then under its did:key until the identity exists;
        // the first command run as that identity files it under the identity's id.
        const provisional = `pending-${randomUUID()}`;
        const did = await session.keys.generate(provisional);
        await session.keys.assign(provisional, did);
        const file = session.keys.fileOf(did);
        out.show({ key: did, keys: dir, file }, () => {
          out.line(did);
          out.note(
            [
              `${out.c.green('✓')} A new key pair; the private key is in ${file} (0600) and nowhere else.`,
              '  Next:',
              `  1. Send the public key above to the workspace's owner, who runs: baton id create <name> --key ${did}`,
              '     and tells you the new id (id_…).',
              `  2. Act with this key directory: baton --keys ${shellArg(dir)} --as <id> inbox`,
              '     (or in a program: new KeyDirectory({ path }) as the keyring, then ws.as(id)).',
            ].join('\n'),
          );
        });
        return EXIT.OK;
      }),
    );
}

/** `verify`, `checkpoint`, `export`, `import`, `erase`. */
export function registerTrustCommands(program: Command, run: Runner): void {
  program
    .command('verify')
    .description(
      'Re-check the whole log: chain, hashes, signatures, authorization, bodies. Exits 8 if anything does not check out.',
    )
    .option(
      '--from <file>',
      'a checkpoint file kept from `baton checkpoint`: check it is still extended, then only what follows',
    )
    .action(
      run(async ({ session, out, io }, opts: { from?: string }) => {
        const ws = await session.open();
        // The bar moves the cursor: it is Baton's own output, written as is.
        const stderr = out.raw.stderr;
        let from: Checkpoint | undefined;
        if (opts.from !== undefined) from = await readCheckpoint(resolve(io.cwd, opts.from));
        const head = await ws.store.head();
        const showBar = io.isTTY && !out.json && head.seq >= PROGRESS_FROM;
        const bar = showBar
          ? new SingleBar({
              format: 'verifying {bar} {percentage}% · {value}/{total} events · {eta}s left',
              stream: stderr as NodeJS.WriteStream,
              hideCursor: true,
              clearOnComplete: true,
              // `io.isTTY` decided a bar is wanted; draw it whatever the stream says of itself.
              noTTYOutput: true,
            })
          : undefined;
        bar?.start(head.seq, 0);
        const report = await ws
          .verify({
            ...(from ? { from } : {}),
            onProgress: (p) => {
              bar?.setTotal(p.head);
              bar?.update(p.seq);
            },
          })
          .finally(() => bar?.stop());
        out.show(report, (r) => {
          if (r.ok) {
            const since = r.from !== undefined ? ` after checkpoint ${r.from}` : '';
            out.line(
              `${out.c.green('✓')} The log checks out: ${r.events} events${since}, head ${r.head.seq} (${r.head.hash}).`,
            );
          } else {
            out.line(
              `${out.c.red('✗')} The log does not check out at seq ${r.problem!.seq}${r.problem!.id ? ` (${r.problem!.id})` : ''}: ${r.problem!.reason}.`,
            );
          }
          for (const e of r.erased)
            out.line(
              out.c.dim(`  body ${e.hash} (event ${e.seq}) was erased by ${e.by}: ${e.reason}`),
            );
        });
        return report.ok ? EXIT.OK : EXIT.INTEGRITY;
      }),
    );

  program
    .command('checkpoint')
    .description(
      "Sign the current head as an owner. Keep the file somewhere the database's operator cannot change: `verify --from` proves the log still extends it.",
    )
    .option('--out <file>', 'write the checkpoint here (default: print it)')
    .action(
      run(async ({ session, out, io }, opts: { out?: string }) => {
        const ws = await session.open();
        const me = await session.me();
        const cp = await ws.checkpoint({ as: me.id });
        if (opts.out !== undefined) {
          await writeFile(resolve(io.cwd, opts.out), `${JSON.stringify(cp, null, 2)}\n`, {
            flag: 'wx',
          }).catch((err: NodeJS.ErrnoException) => {
            throw err.code === 'EEXIST'
              ? usage(`${opts.out} exists already: keep each checkpoint in its own file.`)
              : err;
          });
          if (!out.json)
            out.line(`${out.c.green('✓')} Checkpoint of seq ${cp.seq} written to ${opts.out}.`);
          else out.data(cp);
        } else out.data(cp);
        return EXIT.OK;
      }),
    );

  program
    .command('export')
    .description('Write the whole log with its bodies as JSONL (needs admin on the workspace).')
    .argument('[file]', 'where to write (default: stdout)')
    .action(
      run(async ({ session, out, io }, file: string | undefined) => {
        const actor = await session.actor();
        if (file === undefined) {
          // A reader that goes away (\`| head\`) ends the export quietly (StdoutClosed).
          for await (const line of actor.export()) await out.write(`${line}\n`);
          return EXIT.OK;
        }
        // Written under a temporary name and renamed when complete: a failed export never
        // leaves a shorter file that would import as a valid, truncated log.
        const target = resolve(io.cwd, file);
        if (existsSync(target)) throw usage(`${file} exists already; export to a new file.`);
        const tmp = `${target}.${process.pid}.tmp`;
        const stream = createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
        const failed = new Promise<never>((_, fail) => stream.once('error', fail));
        failed.catch(() => undefined);
        let lines = 0;
        try {
          for await (const line of actor.export()) {
            if (!stream.write(`${line}\n`)) await Promise.race([once(stream, 'drain'), failed]);
            lines++;
          }
          stream.end();
          await Promise.race([finished(stream), failed]);
          await rename(tmp, target);
        } catch (err) {
          stream.destroy();
          await rm(tmp, { force: true });
          throw err;
        }
        out.note(`${out.c.green('✓')} Exported ${lines} lines to ${file}.`);
        return EXIT.OK;
      }),
    );

  program
    .command('import')
    .description(
      'Create the workspace at --db from an export, after checking all of it (chain, signatures, authorization, bodies). Nothing is written if any check fails.',
    )
    .argument('<file>', 'a file written by `baton export`')
    .action(
      run(async ({ session, out, io }, file: string) => {
        const path = resolve(io.cwd, file);
        if (!existsSync(path)) throw usage(`No file ${file}.`);
        session.createHere();
        const ws = await session.open({ create: true });
        const lines = createInterface({
          input: createReadStream(path),
          crlfDelay: Number.POSITIVE_INFINITY,
        });
        const head = await ws.import(lines);
        out.show({ head, db: session.db }, () =>
          out.line(
            `${out.c.green('✓')} Imported ${head.seq} events into ${session.db}; every check passed.`,
          ),
        );
        return EXIT.OK;
      }),
    );

  program
    .command('erase')
    .description(
      'Erase a body (owners only): its bytes are deleted, the event and hash stay, reads show who erased it and why.',
    )
    .argument('<hash>', "the body's hash (43 characters)")
    .requiredOption('--reason <text>', 'why it is erased (kept in the log)')
    .action(
      run(async ({ session, out }, hash: string, opts: { reason: string }) => {
        const actor = await session.actor();
        const event = await actor.erase(hash, opts.reason);
        out.show(event, () => out.line(`${out.c.green('✓')} Erased ${hash} (event ${event.seq}).`));
        return EXIT.OK;
      }),
    );
}

async function readCheckpoint(path: string): Promise<Checkpoint> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw usage(`Cannot read the checkpoint file ${path}.`);
  }
  try {
    return JSON.parse(text) as Checkpoint;
  } catch {
    throw usage(
      `${path} is not a checkpoint (not JSON). Pass a file written by \`baton checkpoint --out\`.`,
    );
  }
}
