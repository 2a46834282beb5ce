/**
 * A small timing helper for the benchmarks: warm up, calibrate how many calls fill a
 * round, run several rounds of that many calls, and report the median time per call.
 *
 * Each round is timed as a whole (one clock read before, one after), so the clock's own
 * cost does not land on sub-microsecond operations.
 */

import { performance } from 'node:perf_hooks';

export interface TimingOptions {
  /** How long to warm up (JIT, caches) before measuring, in ms. Defaults to 150. */
  warmupMs?: number;
  /** The wall time one round should last, in ms. Defaults to 200. */
  roundMs?: number;
  /** Rounds measured; the median is reported. Defaults to 5. */
  rounds?: number;
  /** Upper bound on calls per round (for operations that grow state). Defaults to 1,000,000. */
  maxPerRound?: number;
}

export interface Timing {
  name: string;
  /** Median wall-clock ns per call over the rounds. */
  ns: number;
  /** Median CPU ns per call (user + system, all of the process's threads). */
  cpuNs: number;
  /** Fastest and slowest round, ns per call. */
  minNs: number;
  maxNs: number;
  /** Wall ns per call of each round, in order (rounds of interleaved operations line up). */
  samples: number[];
  /** Calls per round and rounds run. */
  perRound: number;
  rounds: number;
}

type Op = () => unknown;

let sink: unknown;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    typeof v === 'object' && v !== null && typeof (v as PromiseLike<unknown>).then === 'function'
  );
}

/** Runs `fn` `n` times, awaiting each call when `isAsync`; returns elapsed wall and CPU ms. */
async function runN(
  fn: Op,
  n: number,
  isAsync: boolean,
  prepare?: Op,
): Promise<{ ms: number; cpuMs: number }> {
  if (prepare) return runPrepared(fn, n, isAsync, prepare);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  if (isAsync) {
    for (let i = 0; i < n; i++) sink = await fn();
  } else {
    for (let i = 0; i < n; i++) sink = fn();
  }
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1_000 };
}

/**
 * Like {@link runN}, but awaits `prepare()` before each call and times the calls one by one,
 * leaving `prepare` out: for the first call after a change (a cold cache). Each call is
 * bracketed by its own clock reads, so this suits calls of a microsecond or more.
 */
async function runPrepared(
  fn: Op,
  n: number,
  isAsync: boolean,
  prepare: Op,
): Promise<{ ms: number; cpuMs: number }> {
  let ms = 0;
  let cpuUs = 0;
  for (let i = 0; i < n; i++) {
    await prepare();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    sink = isAsync ? await fn() : fn();
    ms += performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpuUs += c.user + c.system;
  }
  return { ms, cpuMs: cpuUs / 1_000 };
}

function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

/**
 * Times `fn` (sync or async; an async one is awaited call by call). Returns the median
 * ns per call over `rounds` rounds of about `roundMs` each, after `warmupMs` of warm-up.
 */
export async function time(name: string, fn: Op, options: TimingOptions = {}): Promise<Timing> {
  const [t] = await timeInterleaved([{ name, fn }], options);
  return t!;
}

/**
 * Times several operations in alternating rounds (A B C A B C …), so drift in the machine
 * (frequency scaling, other processes) lands on all of them alike. Use it when their
 * ratio is what matters.
 */
export async function timeInterleaved(
  ops: {
    name: string;
    fn: Op;
    warmupMs?: number;
    /** Run (untimed) before every timed call of `fn`; see {@link runPrepared}. */
    prepare?: Op;
    /** Overrides the table's `maxPerRound` for this operation. */
    maxPerRound?: number;
  }[],
  options: TimingOptions = {},
): Promise<Timing[]> {
  const warmupMs = options.warmupMs ?? 150;
  const roundMs = options.roundMs ?? 200;
  const rounds = options.rounds ?? 5;
  const maxPerRound = options.maxPerRound ?? 1_000_000;

  const plans: {
    name: string;
    fn: Op;
    prepare: Op | undefined;
    isAsync: boolean;
    perRound: number;
    samples: number[];
    cpu: number[];
  }[] = [];
  for (const op of ops) {
    await op.prepare?.();
    const first = op.fn();
    const isAsync = isThenable(first);
    if (isAsync) await first;
    let chunk = 1;
    let spent = 0;
    let perCallMs = Number.POSITIVE_INFINITY;
    while (spent < (op.warmupMs ?? warmupMs)) {
      const { ms } = await runN(op.fn, chunk, isAsync, op.prepare);
      spent += ms;
      if (ms > 0) perCallMs = ms / chunk;
      if (ms < 10) chunk *= 2;
    }
    const cap = op.maxPerRound ?? maxPerRound;
    const perRound = Math.max(1, Math.min(cap, Math.ceil(roundMs / perCallMs)));
    plans.push({
      name: op.name,
      fn: op.fn,
      prepare: op.prepare,
      isAsync,
      perRound,
      samples: [],
      cpu: [],
    });
  }
  for (let r = 0; r < rounds; r++) {
    for (const p of plans) {
      const { ms, cpuMs } = await runN(p.fn, p.perRound, p.isAsync, p.prepare);
      p.samples.push((ms * 1e6) / p.perRound);
      p.cpu.push((cpuMs * 1e6) / p.perRound);
    }
  }
  void sink;
  return plans.map((p) => ({
    name: p.name,
    ns: median(p.samples),
    cpuNs: median(p.cpu),
    samples: p.samples,
    minNs: Math.min(...p.samples),
    maxNs: Math.max(...p.samples),
    perRound: p.perRound,
    rounds,
  }));
}

/** The `q` quantile of `xs` (linear between neighbours). */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** The same-round ratios of `a` to `b`: their median and quartiles. */
export interface RatioStats {
  median: number;
  q1: number;
  q3: number;
}

/**
 * `a`'s time divided by `b`'s, round by round, for operations timed together by
 * {@link timeInterleaved}: a ratio that drift between rounds does not skew.
 */
export function pairedRatio(a: Timing, b: Timing): RatioStats {
  const n = Math.min(a.samples.length, b.samples.length);
  const rs = Array.from({ length: n }, (_, i) => a.samples[i]! / b.samples[i]!);
  return { median: quantile(rs, 0.5), q1: quantile(rs, 0.25), q3: quantile(rs, 0.75) };
}
