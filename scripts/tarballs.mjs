#!/usr/bin/env node
// Builds every package and packs it into a tarball that installs with plain npm:
// `node scripts/tarballs.mjs [DIR]` (`npm run tarballs`) writes
// baton-core-<version>.tgz, baton-sqlite-<version>.tgz, baton-mcp-<version>.tgz and
// baton-cli-<version>.tgz (the CLI depends on @baton/mcp for `baton mcp`) into DIR
// (defaults to ./tarballs) and prints their paths, one a line. pnpm pack turns each
// `workspace:*` dependency into the version it points at and each `catalog:` one into its
// range, so the tarballs need nothing from this repository.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pnpmCommand, ROOT, toolEnv } from './pnpm.mjs';

const PACKAGES = ['core', 'sqlite', 'mcp', 'cli'];
const out = resolve(process.argv[2] ?? join(ROOT, 'tarballs'));
const env = toolEnv();
const [command, ...pre] = pnpmCommand(env);

function run(args, cwd) {
  const r = spawnSync(command, [...pre, ...args], {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0) {
    process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    process.stderr.write(`tarballs: \`pnpm ${args.join(' ')}\` failed in ${cwd}\n`);
    process.exit(1);
  }
}

mkdirSync(out, { recursive: true });
for (const name of PACKAGES) {
  const dir = join(ROOT, 'packages', name);
  run(['run', 'build'], dir);
  run(['pack', '--pack-destination', out], dir);
}
for (const file of readdirSync(out).sort())
  if (/^baton-(core|sqlite|mcp|cli)-.+\.tgz$/.test(file))
    process.stdout.write(`${join(out, file)}\n`);
