/**
 * Gateway benchmark: the same handler in front of an encrypted object (S3
 * client with the plugin) and in front of the same bytes stored plainly (a
 * plugin-less client: a plain proxy), each in a child process on loopback,
 * loaded one after the other by concurrent keep-alive clients making random
 * 1 MiB range requests. Prints requests/s, MB/s, time to first byte, the
 * gateway process's CPU, errors and the encrypted/plain ratios; a sample of
 * responses is checked byte for byte (exit 1 on any error).
 *
 *   eval "$(bash scripts/s3-server.sh env)"   # or nothing, for the local server (test-support's clientConfig)
 *   BENCH_MB=256 BENCH_SECONDS=30 BENCH_CLIENTS=32 pnpm --filter @encrypted-stream/gateway bench
 *
 * Also BENCH_RANGE_KIB (1024), BENCH_WARMUP_SECONDS (3), BENCH_VERIFY_EVERY (8), BENCH_ROUNDS (1:
 * split BENCH_SECONDS into that many alternating slices, fairer on a busy machine) and BENCH_PROFILE_DIR
 * (write each gateway process's V8 CPU profile there), BENCH_PIN=1 (the gateway on the last CPU, the load
 * generator and a local Ceph S3 server on the others: the gateway with a core of its own, as when S3 is remote).
 */
import './from-source';
import { execFileSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { performance as nodePerformance } from 'node:perf_hooks';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LocalKeyring } from '@encrypted-stream/codec';
import { getEncryptionPlugin } from '@encrypted-stream/s3';
import { clientConfig, createBucket, destroyBucket } from '@encrypted-stream/test-support';
import { createGatewayHandler } from '../src';

const MiB = 1024 * 1024;
const MB = 1e6;
const SIZE = Number(process.env.BENCH_MB ?? 256) * MiB;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 32);
const RANGE = Number(process.env.BENCH_RANGE_KIB ?? 1024) * 1024;
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const VERIFY_EVERY = Number(process.env.BENCH_VERIFY_EVERY ?? 8); // check every Nth response byte for byte
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1)); // alternating slices of BENCH_SECONDS
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR; // write each gateway's V8 CPU profile there
const PIN = process.env.BENCH_PIN === '1' && cpus().length >= 2; // the gateway on a core of its own

type Kind = 'plain' | 'encrypted';

// ---------------------------------------------------------------- gateway child

interface ChildStats {
  cpuUserMs: number;
  cpuSystemMs: number;
  wallMs: number;
  handled: number;
  s3Requests: number;
  rssMiB: number;
  /** Milliseconds the event loop was busy (not waiting for I/O). */
  loopBusyMs: number;
}

type ToChild = { type: 'reset' } | { type: 'stats' };
type FromChild = { type: 'listening'; port: number } | ({ type: 'stats' } & ChildStats);

/** The gateway process: the same handler, with or without the plugin on its client. */
async function child(kind: Kind): Promise<void> {
  const client = new S3Client(clientConfig());
  if (kind === 'encrypted') {
    const keyring = LocalKeyring.single('bench', Buffer.from(process.env.BENCH_KEY as string, 'base64'));
    client.middlewareStack.use(getEncryptionPlugin(client, { keyring }));
  }
  let s3Requests = 0;
  client.middlewareStack.add(
    (next) => (args) => {
      s3Requests++;
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'benchS3Counter' },
  );
  const handler = createGatewayHandler({
    client,
    scope: { bucket: process.env.BENCH_BUCKET as string, prefix: `${kind}/` },
    log: (entry) => {
      if (entry.level === 'error') process.stderr.write(`[${kind} gateway] ${JSON.stringify(entry)}\n`);
    },
  });
  let handled = 0;
  const server = http.createServer((req, res) => {
    handled++;
    handler(req, res);
  });
  server.keepAliveTimeout = 60_000;
  let cpu = process.cpuUsage();
  let loop = nodePerformance.eventLoopUtilization();
  let t0 = performance.now();
  server.listen(0, '127.0.0.1', () => {
    const message: FromChild = { type: 'listening', port: (server.address() as AddressInfo).port };
    process.send?.(message);
  });
  process.on('message', (message: ToChild) => {
    if (message.type === 'reset') {
      cpu = process.cpuUsage();
      loop = nodePerformance.eventLoopUtilization();
      t0 = performance.now();
      handled = 0;
      s3Requests = 0;
    } else {
      const used = process.cpuUsage(cpu);
      const reply: FromChild = {
        type: 'stats',
        cpuUserMs: used.user / 1000,
        cpuSystemMs: used.system / 1000,
        wallMs: performance.now() - t0,
        handled,
        s3Requests,
        rssMiB: process.memoryUsage.rss() / MiB,
        loopBusyMs: nodePerformance.eventLoopUtilization(loop).active,
      };
      process.send?.(reply);
    }
  });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------- load generator

interface Gateway {
  port: number;
  request(message: ToChild): void;
  next(): Promise<FromChild>;
  stop(): Promise<void>;
}

async function startChild(kind: Kind, env: Record<string, string>): Promise<Gateway> {
  const proc = fork(__filename, ['child', kind], {
    execArgv: [
      '-r',
      'ts-node/register/transpile-only',
      ...(PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', `${kind}.cpuprofile`] : []),
    ],
    env: { ...process.env, ...env, TS_NODE_TRANSPILE_ONLY: 'true' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  if (PIN && proc.pid !== undefined) pin(proc.pid, String(cpus().length - 1));
  const queue: FromChild[] = [];
  const waiting: ((m: FromChild) => void)[] = [];
  proc.on('message', (m: FromChild) => {
    const w = waiting.shift();
    if (w) w(m);
    else queue.push(m);
  });
  const exited = new Promise<never>((_, reject) =>
    proc.once('exit', (code) => reject(new Error(`${kind} gateway exited (${code})`))),
  );
  exited.catch(() => {});
  const next = () =>
    Promise.race([
      exited,
      new Promise<FromChild>((resolve) => {
        const m = queue.shift();
        if (m) resolve(m);
        else waiting.push(resolve);
      }),
    ]);
  const first = await next();
  if (first.type !== 'listening') throw new Error('unexpected message from the gateway');
  return {
    port: first.port,
    request: (message) => proc.send(message),
    next,
    stop: () =>
      new Promise<void>((resolve) => {
        proc.removeAllListeners('exit');
        proc.once('exit', () => resolve());
        proc.disconnect(); // the child exits on disconnect (and writes its CPU profile, if asked)
      }),
  };
}

interface LoadResult {
  requests: number;
  bytes: number;
  errors: number;
  errorSamples: string[];
  verified: number;
  ttfbMs: number[];
  seconds: number;
}

/** One ranged GET; resolves with TTFB and bytes, or throws a description of what went wrong. */
function rangedGet(
  agent: http.Agent,
  port: number,
  path: string,
  start: number,
  data: Buffer,
  verify: boolean,
): Promise<{ ttfb: number; bytes: number; verified: boolean }> {
  const end = Math.min(start + RANGE, SIZE) - 1;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path, agent, headers: { range: `bytes=${start}-${end}` } },
      (res) => {
        let ttfb = 0;
        let bytes = 0;
        const pieces: Buffer[] = [];
        res.on('data', (piece: Buffer) => {
          if (bytes === 0) ttfb = performance.now() - t0;
          bytes += piece.length;
          if (verify) pieces.push(piece);
        });
        res.on('error', (error) => reject(new Error(`body: ${error.message}`)));
        res.on('end', () => {
          if (res.statusCode !== 206) return reject(new Error(`status ${res.statusCode}`));
          if (res.headers['content-range'] !== `bytes ${start}-${end}/${SIZE}`) {
            return reject(new Error(`Content-Range ${res.headers['content-range']} for ${start}-${end}`));
          }
          if (bytes !== end - start + 1) return reject(new Error(`${bytes} bytes for ${start}-${end}`));
          if (verify && !Buffer.concat(pieces).equals(data.subarray(start, end + 1))) {
            return reject(new Error(`wrong bytes for ${start}-${end}`));
          }
          resolve({ ttfb, bytes, verified: verify });
        });
      },
    );
    req.on('error', (error) => reject(new Error(`request: ${error.message}`)));
  });
}

async function load(port: number, path: string, data: Buffer, seconds: number): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const result: LoadResult = { requests: 0, bytes: 0, errors: 0, errorSamples: [], verified: 0, ttfbMs: [], seconds };
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  let n = 0;
  async function worker() {
    while (performance.now() < deadline) {
      const start = Math.floor(Math.random() * (SIZE - RANGE + 1));
      const verify = ++n % VERIFY_EVERY === 0;
      try {
        const r = await rangedGet(agent, port, path, start, data, verify);
        result.requests++;
        result.bytes += r.bytes;
        result.ttfbMs.push(r.ttfb);
        if (r.verified) result.verified++;
      } catch (error) {
        result.errors++;
        if (result.errorSamples.length < 5) result.errorSamples.push((error as Error).message);
      }
    }
  }
  await Promise.all(Array.from({ length: CLIENTS }, worker));
  result.seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return result;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

interface Measurement {
  result: LoadResult;
  stats: ChildStats;
  /** CPU seconds of this process (the load generator) over the slice. */
  loadCpu: number;
  /** CPU seconds of the local S3 server's processes over the slice (0 when it is not on this machine). */
  s3Cpu: number;
}

const S3_PROCESSES = new Set(['radosgw', 'ceph-osd', 'ceph-mon']);

/** The local Ceph processes' /proc/PID/stat lines (none when the S3 server is elsewhere). */
function s3ServerStats(): { pid: number; fields: string[] }[] {
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return [];
  }
  const out: { pid: number; fields: string[] }[] = [];
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (S3_PROCESSES.has(name))
        out.push({ pid: Number(pid), fields: stat.slice(stat.lastIndexOf(')') + 2).split(' ') });
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** CPU seconds used so far by the local Ceph processes: utime + stime, fields 14 and 15 of stat, in USER_HZ. */
function s3ServerCpuSeconds(): number {
  return s3ServerStats().reduce((sum, { fields }) => sum + Number(fields[11]) + Number(fields[12]), 0) / 100;
}

/** Sets the CPU affinity of every thread of `pid` (taskset from util-linux). */
function pin(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/**
 * BENCH_PIN: the gateway processes on the last CPU, the load generator and
 * the S3 server on the others, as when the gateway has a core of its own
 * (S3 on other machines). Returns what undoes it.
 */
function pinAllButGateway(): () => void {
  const all = `0-${cpus().length - 1}`;
  const others = `0-${cpus().length - 2}`;
  const pids = [process.pid, ...s3ServerStats().map((s) => s.pid)];
  for (const pid of pids) pin(pid, others);
  return () => {
    for (const pid of pids) {
      try {
        pin(pid, all);
      } catch {
        // gone
      }
    }
  };
}

/** One measured slice against a running gateway: its load and the gateway's own counters over it. */
async function slice(gateway: Gateway, data: Buffer, seconds: number): Promise<Measurement> {
  gateway.request({ type: 'reset' });
  const cpu0 = process.cpuUsage();
  const s30 = s3ServerCpuSeconds();
  const result = await load(gateway.port, '/object.bin', data, seconds);
  const used = process.cpuUsage(cpu0);
  const s3Cpu = s3ServerCpuSeconds() - s30;
  gateway.request({ type: 'stats' });
  const stats = await gateway.next();
  if (stats.type !== 'stats') throw new Error('unexpected message from the gateway');
  return { result, stats, loadCpu: (used.user + used.system) / 1e6, s3Cpu };
}

function merge(a: Measurement | undefined, b: Measurement): Measurement {
  if (!a) return b;
  return {
    loadCpu: a.loadCpu + b.loadCpu,
    s3Cpu: a.s3Cpu + b.s3Cpu,
    result: {
      requests: a.result.requests + b.result.requests,
      bytes: a.result.bytes + b.result.bytes,
      errors: a.result.errors + b.result.errors,
      errorSamples: [...a.result.errorSamples, ...b.result.errorSamples],
      verified: a.result.verified + b.result.verified,
      ttfbMs: [...a.result.ttfbMs, ...b.result.ttfbMs],
      seconds: a.result.seconds + b.result.seconds,
    },
    stats: {
      cpuUserMs: a.stats.cpuUserMs + b.stats.cpuUserMs,
      cpuSystemMs: a.stats.cpuSystemMs + b.stats.cpuSystemMs,
      wallMs: a.stats.wallMs + b.stats.wallMs,
      handled: a.stats.handled + b.stats.handled,
      s3Requests: a.stats.s3Requests + b.stats.s3Requests,
      rssMiB: Math.max(a.stats.rssMiB, b.stats.rssMiB),
      loopBusyMs: a.stats.loopBusyMs + b.stats.loopBusyMs,
    },
  };
}

/**
 * Both gateways up (the idle one costs nothing), warmed up, then measured one
 * after the other: BENCH_SECONDS each, or in BENCH_ROUNDS alternating slices
 * (plain, encrypted, encrypted, plain, ...) on a machine with other load.
 */
async function measureBoth(env: Record<string, string>, data: Buffer): Promise<Record<Kind, Measurement>> {
  const gateways = { plain: await startChild('plain', env), encrypted: await startChild('encrypted', env) };
  try {
    for (const kind of ['plain', 'encrypted'] as const) {
      if (WARMUP_SECONDS > 0) await load(gateways[kind].port, '/object.bin', data, WARMUP_SECONDS);
    }
    const totals: Partial<Record<Kind, Measurement>> = {};
    for (let round = 0; round < ROUNDS; round++) {
      const order: Kind[] = round % 2 ? ['encrypted', 'plain'] : ['plain', 'encrypted'];
      for (const kind of order) totals[kind] = merge(totals[kind], await slice(gateways[kind], data, SECONDS / ROUNDS));
    }
    return totals as Record<Kind, Measurement>;
  } finally {
    await Promise.all([gateways.plain.stop(), gateways.encrypted.stop()]);
  }
}

async function main() {
  const config = clientConfig();
  const s3 = new S3Client(config);
  const masterKey = randomBytes(32);
  const encrypting = new S3Client(config);
  encrypting.middlewareStack.use(getEncryptionPlugin(encrypting, { keyring: LocalKeyring.single('bench', masterKey) }));
  const Bucket = await createBucket(s3, 'gw-bench');
  const keys = ['plain/object.bin', 'encrypted/object.bin'];
  try {
    const data = randomBytes(SIZE);
    const t0 = performance.now();
    await s3.send(new PutObjectCommand({ Bucket, Key: keys[0], Body: data, ContentType: 'application/octet-stream' }));
    await encrypting.send(
      new PutObjectCommand({ Bucket, Key: keys[1], Body: data, ContentType: 'application/octet-stream' }),
    );
    console.log(
      `gateway benchmark against ${config.endpoint}: one ${SIZE / MiB} MiB object (uploaded plain and encrypted in ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s), ${CLIENTS} keep-alive clients, random ${RANGE / 1024} KiB ` +
        `ranges, ${SECONDS} s each${ROUNDS > 1 ? ` in ${ROUNDS} alternating slices` : ''} after ${WARMUP_SECONDS} s ` +
        `warm-up, every ${VERIFY_EVERY}th response checked byte for byte; ` +
        (PIN
          ? `gateway pinned to CPU ${cpus().length - 1}, load generator and S3 server to the others\n`
          : `gateway, load generator and S3 server sharing all ${cpus().length} CPUs\n`),
    );
    const env = { BENCH_BUCKET: Bucket, BENCH_KEY: masterKey.toString('base64') };
    const unpin = PIN ? pinAllButGateway() : () => {};
    let measured: Record<Kind, Measurement>;
    try {
      measured = await measureBoth(env, data);
    } finally {
      unpin();
    }
    const { plain, encrypted } = measured;

    const rows: [string, (m: Measurement) => number, number][] = [
      ['requests/s', (m) => m.result.requests / m.result.seconds, 1],
      ['throughput (MB/s)', (m) => m.result.bytes / MB / m.result.seconds, 1],
      ['TTFB p50 (ms)', (m) => percentile(m.result.ttfbMs, 50), 2],
      ['TTFB p99 (ms)', (m) => percentile(m.result.ttfbMs, 99), 2],
      ['gateway CPU (s)', (m) => (m.stats.cpuUserMs + m.stats.cpuSystemMs) / 1000, 1],
      ['gateway CPU (% of one core)', (m) => ((m.stats.cpuUserMs + m.stats.cpuSystemMs) / m.stats.wallMs) * 100, 0],
      [
        'gateway CPU per GB served (s)',
        (m) => (m.stats.cpuUserMs + m.stats.cpuSystemMs) / 1000 / (m.result.bytes / 1e9),
        2,
      ],
      ['gateway event loop busy (%)', (m) => (m.stats.loopBusyMs / m.stats.wallMs) * 100, 0],
      ['gateway RSS (MiB)', (m) => m.stats.rssMiB, 0],
      ['load generator CPU (% of one core)', (m) => (m.loadCpu / m.result.seconds) * 100, 0],
      ['S3 server CPU (% of one core)', (m) => (m.s3Cpu / m.result.seconds) * 100, 0],
      ['S3 requests per HTTP request', (m) => m.stats.s3Requests / Math.max(1, m.stats.handled), 2],
      ['responses checked byte for byte', (m) => m.result.verified, 0],
      ['errors', (m) => m.result.errors, 0],
    ];
    const cell = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '-').padStart(12);
    console.log(`${''.padEnd(36)}${'plain proxy'.padStart(12)}${'encrypted'.padStart(12)}${'enc/plain'.padStart(12)}`);
    for (const [label, value, digits] of rows) {
      const p = value(plain);
      const e = value(encrypted);
      console.log(`${label.padEnd(36)}${cell(p, digits)}${cell(e, digits)}${cell(p === 0 ? Number.NaN : e / p, 2)}`);
    }
    const throughputRatio =
      encrypted.result.bytes / encrypted.result.seconds / (plain.result.bytes / plain.result.seconds);
    const ttfbRatio = percentile(encrypted.result.ttfbMs, 99) / percentile(plain.result.ttfbMs, 99);
    console.log(
      `\ntargets: throughput encrypted/plain ${throughputRatio.toFixed(2)} (≥ 0.90: ${throughputRatio >= 0.9 ? 'met' : 'MISSED'}), ` +
        `p99 TTFB encrypted/plain ${ttfbRatio.toFixed(2)} (≤ 1.50: ${ttfbRatio <= 1.5 ? 'met' : 'MISSED'})`,
    );
    const errors = [...plain.result.errorSamples, ...encrypted.result.errorSamples];
    if (plain.result.errors + encrypted.result.errors > 0) {
      console.error(`errors (first ones): ${errors.join('; ')}`);
      process.exitCode = 1;
    }
  } finally {
    await destroyBucket(s3, Bucket).catch(() => {});
    s3.destroy();
    encrypting.destroy();
  }
}

if (process.argv[2] === 'child') {
  child(process.argv[3] as Kind).catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
