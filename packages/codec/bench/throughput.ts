/**
 * Throughput, size-overhead and memory benchmark of the codec.
 *
 *   pnpm --filter @encrypted-stream/codec bench
 *
 * Environment:
 *   BENCH_MIB      in-memory input size in MiB (default 256); BENCH_MB = the same in MB (10^6 bytes)
 *   BENCH_REPS     timed repetitions per case (default 7; medians are reported)
 *   BENCH_RSS_MIB  bytes streamed by the memory test, in MiB (default 1024)
 *
 * Every figure printed is measured in this run. MB = 10^6 bytes; throughput is
 * plaintext bytes per second. Each case runs once untimed (warm-up), then the
 * cases run round-robin (one repetition of each, then the next), so that slow
 * drifts of the machine hit every case alike. The streaming cases get the same
 * in-memory input as 64 KiB pieces (what a file ReadStream yields); the
 * baselines get it whole and cut it into chunks themselves. The raw baseline
 * draws its IVs from a pooled CSPRNG buffer, as the codec draws its nonces.
 */
import { fork } from 'node:child_process';
import * as nodeCrypto from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import sodium from 'libsodium-wrappers-sumo';
import { decryptStream, encryptStream, LocalKeyring } from '../src';
import {
  ChunkEncoder,
  type CryptoBackend,
  ciphertextSize,
  collectBytes,
  createStreamCipher,
  defaultBackend,
  getBackend,
} from '../src/low-level';

const KiB = 1024;
const MiB = 1024 * KiB;
const MB = 1e6;
/** What a Node fs.ReadStream hands out (its default highWaterMark). */
const PIECE = 64 * KiB;

// A way to force a full GC (before the memory test's baseline) without `node --expose-gc`.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const envInt = (name: string): number | undefined => {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${name} must be a positive number`);
  return n;
};

// ---------------------------------------------------------------------------
// helpers

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const sizeLabel = (n: number) => (n >= MiB ? `${n / MiB} MiB` : `${n / KiB} KiB`);

/** Views of `data` in `piece`-byte slices, as an async iterable (what a file ReadStream looks like). */
async function* pieces(data: Uint8Array, piece = PIECE): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length; at += piece) yield data.subarray(at, Math.min(data.length, at + piece));
}

/** Drains an async iterable of bytes; returns the byte count. */
async function drain(source: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const p of source) n += p.length;
  return n;
}

/** Checks that `source` yields exactly `expected`. */
async function expectBytes(source: AsyncIterable<Uint8Array>, expected: Uint8Array, what: string) {
  let at = 0;
  for await (const p of source) {
    if (at + p.length > expected.length || Buffer.compare(p, expected.subarray(at, at + p.length)) !== 0) {
      throw new Error(`${what}: wrong plaintext at offset ${at}`);
    }
    at += p.length;
  }
  if (at !== expected.length) throw new Error(`${what}: ${at} of ${expected.length} bytes`);
}

// ---------------------------------------------------------------------------
// baselines

interface RawChunk {
  iv: Uint8Array;
  ct: Uint8Array[];
  tag: Uint8Array;
}

/**
 * Fresh random 12-byte IVs, the cheapest way: views of a pool refilled by
 * randomFillSync (crypto.randomBytes(12) per chunk costs ~2 us, ~6% of a 64 KiB
 * chunk; the baseline should not be handicapped). createCipheriv copies the IV.
 */
const ivPool = Buffer.alloc(12 * 341);
let ivAt = ivPool.length;
function freshIv(): Uint8Array {
  if (ivAt === ivPool.length) {
    nodeCrypto.randomFillSync(ivPool);
    ivAt = 0;
  }
  ivAt += 12;
  return ivPool.subarray(ivAt - 12, ivAt);
}

/** Raw node:crypto ChaCha20-Poly1305, one createCipheriv per chunk with a fresh 12-byte IV. */
function rawEncrypt(data: Uint8Array, chunk: number, key: Uint8Array, keep?: RawChunk[]): number {
  let n = 0;
  for (let at = 0; at < data.length; at += chunk) {
    const iv = keep ? nodeCrypto.randomBytes(12) : freshIv(); // kept IVs must not be views of the pool
    const cipher = nodeCrypto.createCipheriv('chacha20-poly1305', key, iv, { authTagLength: 16 });
    const c = cipher.update(data.subarray(at, at + chunk));
    const f = cipher.final();
    const tag = cipher.getAuthTag();
    n += c.length + f.length + tag.length + iv.length;
    keep?.push({ iv, ct: f.length ? [c, f] : [c], tag });
  }
  return n;
}

function rawDecrypt(chunks: RawChunk[], key: Uint8Array): number {
  let n = 0;
  for (const { iv, ct, tag } of chunks) {
    const decipher = nodeCrypto.createDecipheriv('chacha20-poly1305', key, iv, { authTagLength: 16 });
    decipher.setAuthTag(tag);
    for (const c of ct) n += decipher.update(c).length;
    n += decipher.final().length;
  }
  return n;
}

/** libsodium's XChaCha20-Poly1305-IETF (WebAssembly), detached, one call per chunk. */
function sodiumEncrypt(data: Uint8Array, chunk: number, key: Uint8Array, keep?: RawChunk[]): number {
  let n = 0;
  for (let at = 0; at < data.length; at += chunk) {
    const nonce = sodium.randombytes_buf(24);
    const { ciphertext, mac } = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
      data.subarray(at, at + chunk),
      null,
      null,
      nonce,
      key,
    );
    n += ciphertext.length + mac.length + nonce.length;
    keep?.push({ iv: nonce, ct: [ciphertext], tag: mac });
  }
  return n;
}

function sodiumDecrypt(chunks: RawChunk[], key: Uint8Array): number {
  let n = 0;
  for (const { iv, ct, tag } of chunks) {
    n += sodium.crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
      null,
      ct[0] as Uint8Array,
      tag,
      null,
      iv,
      key,
    ).length;
  }
  return n;
}

// ---------------------------------------------------------------------------
// memory test (runs in a fresh child process so that maxRSS means something)

/** What the memory test streams through: the codec, or raw node:crypto for comparison. */
type RssKind = 'codec' | 'raw';

interface RssResult {
  kind: RssKind;
  chunkSize: number;
  bytes: number;
  seconds: number;
  baselineRss: number;
  peakRss: number;
  samples: number;
  maxRssBefore: number;
  maxRssAfter: number;
  maxRssReset: boolean;
}

/** Raw node:crypto ChaCha20-Poly1305 per piece (no codec), as async generators like the codec's. */
async function* rawSealed(source: AsyncIterable<Uint8Array>, key: Uint8Array) {
  for await (const piece of source) {
    const iv = nodeCrypto.randomBytes(12);
    const cipher = nodeCrypto.createCipheriv('chacha20-poly1305', key, iv, { authTagLength: 16 });
    const ct = cipher.update(piece);
    cipher.final();
    yield { iv, ct, tag: cipher.getAuthTag() };
  }
}

async function* rawOpened(sealed: AsyncIterable<{ iv: Uint8Array; ct: Uint8Array; tag: Uint8Array }>, key: Uint8Array) {
  for await (const { iv, ct, tag } of sealed) {
    const decipher = nodeCrypto.createDecipheriv('chacha20-poly1305', key, iv, { authTagLength: 16 });
    decipher.setAuthTag(tag);
    const pt = decipher.update(ct);
    decipher.final();
    yield pt;
  }
}

async function rssChild(kind: RssKind, chunkSize: number, total: number): Promise<RssResult> {
  await defaultBackend(); // set-up (libsodium's WebAssembly), not streaming
  const keyring = LocalKeyring.single('bench', nodeCrypto.randomBytes(32));
  // One random 1 MiB buffer; the source yields 64 KiB views of it in turn, so
  // nothing of the 1 GiB is ever held. (The views are never modified, as
  // encryptStream requires of the pieces it is given.)
  const pattern = nodeCrypto.randomBytes(MiB);
  let peakRss = 0;
  let samples = 0;
  const sample = () => {
    // In-memory async iterables never return to the event loop (everything runs
    // as microtasks), so a setInterval sampler would never fire: sample inline.
    const rss = process.memoryUsage.rss();
    samples++;
    if (rss > peakRss) peakRss = rss;
  };
  async function* source(bytes: number): AsyncGenerator<Uint8Array> {
    for (let at = 0, i = 0; at < bytes; at += PIECE, i++) {
      if ((i & 7) === 0) sample();
      yield pattern.subarray(at % MiB, (at % MiB) + Math.min(PIECE, bytes - at));
    }
  }
  const run = async (bytes: number) => {
    let at = 0;
    let i = 0;
    const key = nodeCrypto.randomBytes(32);
    const plaintext =
      kind === 'codec'
        ? decryptStream(encryptStream(source(bytes), { keyring, chunkSize }), { keyring })
        : rawOpened(rawSealed(source(bytes), key), key); // (one 64 KiB piece per chunk)
    for await (const p of plaintext) {
      if ((i++ & 7) === 0) sample();
      // Verify as we go (the pattern repeats every MiB; chunk sizes divide MiB or are multiples of it).
      for (let off = 0; off < p.length; ) {
        const from = (at + off) % MiB;
        const len = Math.min(p.length - off, MiB - from);
        if (Buffer.compare(p.subarray(off, off + len), pattern.subarray(from, from + len)) !== 0) {
          throw new Error(`memory test: wrong plaintext at ${at + off}`);
        }
        off += len;
      }
      at += p.length;
    }
    if (at !== bytes) throw new Error(`memory test: decrypted ${at} of ${bytes} bytes`);
  };
  // No warm-up: growth is measured from before the first byte is streamed, so
  // it includes whatever the run itself brings in (JIT code, allocator pools).
  gc();
  // maxRSS is a high-water mark for the whole process, and loading ts-node and
  // TypeScript already pushed it well above what streaming needs. On Linux,
  // writing 5 to clear_refs resets it to the current RSS, so that the
  // before/after difference is the streaming run's own peak.
  let maxRssReset = false;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    maxRssReset = true;
  } catch {
    // not Linux, or not permitted: maxRSS before/after still bounds the growth from below
  }
  const maxRssBefore = process.resourceUsage().maxRSS * 1024;
  const baselineRss = process.memoryUsage.rss();
  peakRss = baselineRss;
  const t0 = performance.now();
  await run(total);
  const seconds = (performance.now() - t0) / 1000;
  sample();
  const maxRssAfter = process.resourceUsage().maxRSS * 1024;
  return {
    kind,
    chunkSize,
    bytes: total,
    seconds,
    baselineRss,
    peakRss,
    samples,
    maxRssBefore,
    maxRssAfter,
    maxRssReset,
  };
}

function runRssChild(kind: RssKind, chunkSize: number, total: number): Promise<RssResult> {
  return new Promise((resolve, reject) => {
    // fork() re-runs this file under the same execArgv (-r ts-node/register/transpile-only).
    const child = fork(__filename, ['--rss-child', kind, String(chunkSize), String(total)], { stdio: 'inherit' });
    let result: RssResult | undefined;
    child.on('message', (m) => {
      result = m as RssResult;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      result && code === 0 ? resolve(result) : reject(new Error(`memory test child exited with ${code}`)),
    );
  });
}

// ---------------------------------------------------------------------------
// main

interface Case {
  name: string;
  run: () => Promise<number> | number;
  /** Wall-clock seconds per timed run. */
  times: number[];
}

async function main() {
  const inputBytes = envInt('BENCH_MIB')
    ? Math.round((envInt('BENCH_MIB') as number) * MiB)
    : envInt('BENCH_MB')
      ? Math.round((envInt('BENCH_MB') as number) * MB)
      : 256 * MiB;
  const reps = Math.round(envInt('BENCH_REPS') ?? 7);
  const rssBytes = Math.round((envInt('BENCH_RSS_MIB') ?? 1024) * MiB);
  await sodium.ready;

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`encrypted-stream codec benchmark: node ${process.version} ${process.platform}/${process.arch}`);
  console.log(`  ${os.cpus().length} x ${cpu}`);
  console.log(
    `  input ${(inputBytes / MiB).toFixed(0)} MiB (${(inputBytes / MB).toFixed(1)} MB) in memory, ` +
      `fed to the streaming APIs as ${PIECE / KiB} KiB pieces; median of ${reps} runs after 1 warm-up; MB = 10^6 bytes`,
  );
  const load = () =>
    os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  console.log(`  load average at start: ${load()}`);

  // --- memory first, in child processes (nothing big allocated here yet) ---
  const rss: RssResult[] = [];
  rss.push(await runRssChild('codec', 64 * KiB, rssBytes));
  rss.push(await runRssChild('codec', MiB, rssBytes));
  rss.push(await runRssChild('raw', 64 * KiB, rssBytes));

  // --- throughput ---
  const input = nodeCrypto.randomBytes(inputBytes);
  const rawKey = nodeCrypto.randomBytes(32);
  const keyring = LocalKeyring.single('bench', nodeCrypto.randomBytes(32));
  const backends: Record<string, CryptoBackend> = {
    native: await getBackend('native'),
    libsodium: await getBackend('libsodium'),
  };
  const chunkSizes = [64 * KiB, MiB];
  const cases: Case[] = [];
  const add = (name: string, run: Case['run']) => cases.push({ name, run, times: [] });

  for (const chunk of chunkSizes) {
    const label = sizeLabel(chunk);
    // Ciphertexts for the decrypt cases, made (and checked) once, outside the timings.
    const rawChunks: RawChunk[] = [];
    rawEncrypt(input, chunk, rawKey, rawChunks);
    const sodiumChunks: RawChunk[] = [];
    sodiumEncrypt(input, chunk, rawKey, sodiumChunks);
    const ours = await collectBytes(
      encryptStream(pieces(input), { keyring, chunkSize: chunk, backend: backends.native }),
    );
    await expectBytes(decryptStream(pieces(ours), { keyring, backend: backends.native }), input, `native ${label}`);
    await expectBytes(
      decryptStream(pieces(ours), { keyring, backend: backends.libsodium }),
      input,
      `libsodium ${label}`,
    );

    add(`raw enc ${label}`, () => rawEncrypt(input, chunk, rawKey));
    add(`raw dec ${label}`, () => rawDecrypt(rawChunks, rawKey));
    add(`sodium enc ${label}`, () => sodiumEncrypt(input, chunk, rawKey));
    add(`sodium dec ${label}`, () => sodiumDecrypt(sodiumChunks, rawKey));
    for (const [name, backend] of Object.entries(backends)) {
      add(`${name} enc ${label}`, () => drain(encryptStream(pieces(input), { keyring, chunkSize: chunk, backend })));
      add(`${name} dec ${label}`, () => drain(decryptStream(pieces(ours), { keyring, backend })));
    }
  }

  for (let rep = -1; rep < reps; rep++) {
    for (const c of cases) {
      // No forced gc() between runs: right after a full collection V8 lowers its
      // allocation limits and then runs several full mark-compacts during the
      // next 256 MiB (measured: 6-9 of them, ~25% of raw's time, varying from
      // run to run), which is not what a long-running stream sees.
      const t0 = performance.now();
      await c.run();
      const t = (performance.now() - t0) / 1000;
      if (rep >= 0) c.times.push(t);
    }
  }

  // --- report ---
  const byName = new Map(cases.map((c) => [c.name, c]));
  const timesOf = (name: string) => (byName.get(name) as Case).times;
  /** Median throughput in MB/s. */
  const mbps = (name: string) => inputBytes / MB / median(timesOf(name));
  /** Best (fastest run) throughput in MB/s: the least disturbed by other load on the machine. */
  const best = (name: string) => inputBytes / MB / Math.min(...timesOf(name));
  const worst = (name: string) => inputBytes / MB / Math.max(...timesOf(name));
  const row = (cells: string[], widths: number[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  const rule = (widths: number[]) => console.log('-'.repeat(widths.reduce((a, b) => a + b + 2, -2)));

  console.log(`\nThroughput, MB/s of plaintext: median of ${reps} runs (slowest-fastest run)`);
  const w = [50, 7, 9, 11, 9, 11];
  console.log(row(['implementation', 'chunk', 'encrypt', '', 'decrypt', ''], w));
  rule(w);
  const rows: [string, string][] = [
    ['raw node:crypto chacha20-poly1305 (baseline)', 'raw'],
    ['libsodium XChaCha20-Poly1305 alone (WASM)', 'sodium'],
    ['encryptStream / decryptStream, native backend', 'native'],
    ['encryptStream / decryptStream, libsodium backend', 'libsodium'],
  ];
  const range = (name: string) => `(${worst(name).toFixed(0)}-${best(name).toFixed(0)})`;
  for (const [title, key] of rows) {
    for (const chunk of chunkSizes) {
      const l = sizeLabel(chunk);
      const [e, d] = [`${key} enc ${l}`, `${key} dec ${l}`];
      console.log(row([title, l, mbps(e).toFixed(0), range(e), mbps(d).toFixed(0), range(d)], w));
    }
  }

  console.log('\nRatios: median / median (in brackets: fastest run / fastest run)');
  const wr = [50, 7, 17, 17];
  console.log(row(['', 'chunk', 'encrypt', 'decrypt'], wr));
  rule(wr);
  const ratio = (ours: string, base: string) => {
    const m = mbps(ours) / mbps(base);
    return { m, text: `${m.toFixed(3)} [${(best(ours) / best(base)).toFixed(3)}]` };
  };
  const verdicts: string[] = [];
  for (const [title, ours, base] of [
    ['ours (native) / raw node:crypto', 'native', 'raw'],
    ['ours (libsodium backend) / libsodium alone', 'libsodium', 'sodium'],
  ] as const) {
    for (const chunk of chunkSizes) {
      const l = sizeLabel(chunk);
      const e = ratio(`${ours} enc ${l}`, `${base} enc ${l}`);
      const d = ratio(`${ours} dec ${l}`, `${base} dec ${l}`);
      console.log(row([title, l, e.text, d.text], wr));
      if (ours === 'native' && chunk === 64 * KiB) {
        verdicts.push(
          `ours/raw (medians) at the default 64 KiB chunk >= 0.90: encrypt ${e.m.toFixed(3)} ` +
            `${e.m >= 0.9 ? 'MET' : 'NOT MET'}, decrypt ${d.m.toFixed(3)} ${d.m >= 0.9 ? 'MET' : 'NOT MET'}`,
        );
      }
    }
  }

  // --- size overhead, measured on a real encoder's output ---
  console.log('\nSize overhead per chunk (measured: encrypted size of one full chunk minus its plaintext)');
  const wo = [10, 14, 12, 22];
  console.log(row(['chunk', 'bytes/chunk', 'percent', 'ciphertextSize(1 GiB)'], wo));
  console.log('-'.repeat(wo.reduce((a, b) => a + b + 2, -2)));
  const big = nodeCrypto.randomBytes(16 * MiB);
  for (let e = 12; e <= 24; e++) {
    const chunk = 2 ** e;
    const cipher = await createStreamCipher({ keyring, chunkSize: chunk, backend: backends.native });
    const encoder = new ChunkEncoder(cipher);
    const out = encoder.push(big.subarray(0, chunk));
    const overhead = out.reduce((n, p) => n + p.length, 0) - chunk;
    const gib = ciphertextSize(1024 * MiB, chunk) - 1024 * MiB;
    console.log(
      row([sizeLabel(chunk), String(overhead), `${((100 * overhead) / chunk).toFixed(4)} %`, `+${gib} bytes`], wo),
    );
  }

  // --- memory ---
  console.log(
    `\nMemory: ${(rssBytes / MiB).toFixed(0)} MiB (${(rssBytes / MB).toFixed(1)} MB) generated on the fly in ` +
      `${PIECE / KiB} KiB pieces -> encrypt -> decrypt -> checked, each row in a fresh child process`,
  );
  const wm = [40, 12, 10, 12, 13, 8];
  console.log(row(['pipeline', 'rss before', 'rss peak', 'rss growth', 'maxRSS growth', 'MB/s'], wm));
  rule(wm);
  const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
  const growthOf = (r: RssResult) => Math.max(r.peakRss - r.baselineRss, r.maxRssAfter - r.maxRssBefore);
  for (const r of rss) {
    const title =
      r.kind === 'codec'
        ? `encryptStream -> decryptStream, ${sizeLabel(r.chunkSize)}`
        : `raw node:crypto per ${sizeLabel(r.chunkSize)} (no codec)`;
    console.log(
      row(
        [
          title,
          mib(r.baselineRss),
          mib(r.peakRss),
          mib(r.peakRss - r.baselineRss),
          mib(r.maxRssAfter - r.maxRssBefore),
          (r.bytes / MB / r.seconds).toFixed(0),
        ],
        wm,
      ),
    );
  }
  const r64 = rss.find((r) => r.kind === 'codec' && r.chunkSize === 64 * KiB) as RssResult;
  const raw64 = rss.find((r) => r.kind === 'raw') as RssResult;
  console.log(
    `  rss: process.memoryUsage.rss(), sampled every 8 pieces (${r64.samples} times in the 64 KiB codec run);\n` +
      `  maxRSS: process.resourceUsage().maxRSS, ${
        r64.maxRssReset
          ? 'its high-water mark reset via /proc/self/clear_refs just before the run'
          : 'NOT reset (no /proc/self/clear_refs): bounds the growth from below only'
      };\n  growth = peak - before; MB/s: plaintext through encrypt+decrypt+check together.`,
  );
  const growth = growthOf(r64);
  verdicts.push(
    `peak RSS growth streaming ${(rssBytes / MiB).toFixed(0)} MiB at 64 KiB < 32 MiB: ${mib(growth)} ` +
      `${growth < 32 * MiB ? 'MET' : 'NOT MET'} (raw node:crypto alone: ${mib(growthOf(raw64))})`,
  );

  console.log(`\nload average at end: ${load()} (other processes share these ${os.cpus().length} CPUs)`);
  console.log('\nTargets');
  for (const v of verdicts) console.log(`  ${v}`);
}

if (process.argv[2] === '--rss-child') {
  rssChild(process.argv[3] as RssKind, Number(process.argv[4]), Number(process.argv[5])).then(
    (r) => (process.send as (m: unknown, cb: () => void) => void)(r, () => process.exit(0)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
