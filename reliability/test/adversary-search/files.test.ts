/**
 * Adversary search over self-contained encrypted files (FORMAT.md §7): the
 * same mutations as the S3 objects (mutations.ts), applied to the body after
 * the header and key block, and to the header and key block themselves; files
 * written by the CLI's `encrypt` (of a file: size recorded; of stdin: not
 * recorded; 4 KiB chunks) and by the codec's encryptStream (64 KiB chunks,
 * size not recorded: the 2 × 65,576 + 40 bytes). Read in process by
 * decryptBuffer, decryptStream and openEncryptedFile (whole and four ranges),
 * and — sampled, every mutation kind once per write path — by the CLI's
 * `decrypt` (whole: must fail) and `decrypt --range` (the original bytes or a failure).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { decryptBuffer, decryptStream, encryptBuffer, encryptStream } from '@encrypted-stream/codec';
import { collectBytes } from '@encrypted-stream/codec/low-level';
import { openEncryptedFile } from '@encrypted-stream/codec/node';
import { BODY_KINDS, bodyMutations, type DetachedStrings, type Layout, layout, METADATA_MUTATIONS } from './mutations';
import {
  errorCode,
  errorMessage,
  expectedFor,
  type Judgement,
  judgeRead,
  judgeStrict,
  type RangeName,
  type RangeSpec,
  type ReadObservation,
  rangeHeader,
  rangesFor,
  UNAUTHENTICATED_416,
} from './oracle';
import { CONTROL, expectClean, Tally } from './tally';
import { DEFAULT, mapLimit, plaintextOf, runCli, SMALL, victimKeyring, writeKeyringFile } from './victim';

/** Header and key block of a file; the body follows. */
interface Framed {
  strings: DetachedStrings;
  body: Buffer;
}

/** Splits a self-contained file (FORMAT.md §7: header 96 ‖ kl ‖ key id ‖ wl (u16) ‖ wrapped ‖ chunks). */
function split(file: Buffer): Framed {
  const kl = file[96] as number;
  const wl = file.readUInt16BE(97 + kl);
  const end = 99 + kl + wl;
  return {
    strings: {
      h: file.subarray(0, 96).toString('base64url'),
      k: file.subarray(97, 97 + kl).toString('latin1'),
      w: file.subarray(99 + kl, end).toString('base64url'),
    },
    body: file.subarray(end),
  };
}

/** The file again; a field the mutation removed is left out (header) or given length 0 (key id, wrapped key). */
function join3({ strings, body }: Framed): Buffer {
  const k = Buffer.from(strings.k ?? '', 'latin1');
  const w = Buffer.from(strings.w ?? '', 'base64url');
  const wl = Buffer.alloc(2);
  wl.writeUInt16BE(w.length);
  return Buffer.concat([
    strings.h === undefined ? Buffer.alloc(0) : Buffer.from(strings.h, 'base64url'),
    Buffer.of(k.length),
    k,
    wl,
    w,
    body,
  ]);
}

/** The file's names for the header strings' mutation kinds. */
const fileKind = (kind: string) =>
  kind
    .replace(/^es-h:/, 'header:')
    .replace(/^es-k:/, 'key id:')
    .replace(/^es-w:/, 'wrapped key:')
    .replace("another object's", "another file's");

interface FileWritePath {
  readonly name: string;
  readonly chunkSize: number;
  write(data: Buffer, out: string): Promise<void>;
}

let tmp: string;
let keyringFile: string;
const keyring = victimKeyring();

const cliEncrypt =
  (fromStdin: boolean) =>
  async (data: Buffer, out: string): Promise<void> => {
    const flags = ['-o', out, '--chunk-size', '4KiB', '-k', keyringFile, '-q'];
    let run: Awaited<ReturnType<typeof runCli>>;
    if (fromStdin) run = await runCli(['encrypt', '-', ...flags], data);
    else {
      const input = `${out}.plain`;
      writeFileSync(input, data);
      run = await runCli(['encrypt', input, ...flags]);
      rmSync(input, { force: true });
    }
    if (run.exit !== 0) throw new Error(`encrypted-stream encrypt exited ${run.exit}: ${run.stderr}`);
  };

const FILE_PATHS: readonly FileWritePath[] = [
  { name: 'CLI encrypt of a file (size recorded)', chunkSize: SMALL, write: cliEncrypt(false) },
  { name: 'CLI encrypt of stdin (size not recorded)', chunkSize: SMALL, write: cliEncrypt(true) },
  {
    name: 'codec encryptStream (64 KiB, size not recorded)',
    chunkSize: DEFAULT,
    write: async (data, out) => {
      writeFileSync(out, await collectBytes(encryptStream(Readable.from(data.length ? [data] : []), { keyring })));
    },
  },
];

const sizesFor = (C: number) => [0, 1, C - 1, C, C + 1, 2 * C, 3 * C + 5];
/** The header-string mutations do not depend on the body's geometry: three sizes suffice (empty, 2C, 3C+5). */
const metadataSizes = (C: number) => [0, 2 * C, 3 * C + 5];
const KINDS = [CONTROL, ...BODY_KINDS, ...METADATA_MUTATIONS.map((m) => fileKind(m.kind))];
const OPEN_READS: [string, RangeName][] = [
  ['openEncryptedFile whole', 'whole'],
  ['openEncryptedFile a-b ending at the last byte', 'end'],
  ['openEncryptedFile a-b ending at a chunk boundary', 'boundary'],
  ['openEncryptedFile a-', 'from'],
  ['openEncryptedFile -n', 'suffix'],
];
const CLI_WHOLE = 'CLI decrypt (whole file, must fail)';
const CLI_RANGE = 'CLI decrypt --range=a- (sampled)';
const READS = ['decryptBuffer', 'decryptStream', ...OPEN_READS.map(([n]) => n), CLI_WHOLE];

const tally = new Tally();

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'es-adv-files-'));
  keyringFile = writeKeyringFile(tmp);
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  const { run, accepted } = tally.record('files');
  console.log(`adversary search (files): ${run} cases, ${accepted} mutations accepted`);
});

async function observe(read: () => AsyncIterable<Uint8Array> | Promise<Uint8Array>): Promise<ReadObservation> {
  const pieces: Buffer[] = [];
  try {
    const out = read();
    if (out instanceof Promise) pieces.push(Buffer.from(await out));
    else for await (const piece of out) pieces.push(Buffer.from(piece));
    return { kind: 'data', data: Buffer.concat(pieces) };
  } catch (error) {
    return { kind: 'error', code: errorCode(error), message: errorMessage(error), delivered: Buffer.concat(pieces) };
  }
}

/**
 * openEncryptedFile as a ranged reader would use it (the CLI's decrypt --range): the range is resolved
 * against the size the file reports; a range the reported size cannot satisfy is a 416-like refusal.
 */
async function openAndRead(path: string, spec: RangeSpec, P: number, recorded: boolean): Promise<Judgement> {
  let file: Awaited<ReturnType<typeof openEncryptedFile>>;
  try {
    file = await openEncryptedFile(path, { keyring });
  } catch (error) {
    return judgeRead(
      { kind: 'error', code: errorCode(error), message: errorMessage(error), delivered: Buffer.alloc(0) },
      Buffer.alloc(0),
      { kind: 'unsatisfiable' },
    );
  }
  try {
    const expected = expectedFor(spec, P);
    const resolved = expectedFor(spec, file.plaintextSize);
    if (resolved.kind === 'unsatisfiable') {
      if (expected.kind === 'unsatisfiable')
        return { verdict: 'intact', detail: 'unsatisfiable (outside the original)' };
      // Without a recorded size the reported size is only authenticated by a read that reaches the end (SECURITY.md).
      return recorded
        ? { verdict: 'violation', detail: `reports ${file.plaintextSize} bytes, the header records ${P}` }
        : { verdict: 'refused', detail: `${UNAUTHENTICATED_416}: unsatisfiable against ${file.plaintextSize} bytes` };
    }
    const o = await observe(() => file.read(resolved.start, resolved.end));
    // Bytes released before a failure are labelled by the range resolved against the reported size.
    return judgeRead(o.kind === 'error' ? { ...o, offset: resolved.start } : o, plaintextOf('file', P), expected);
  } finally {
    await file.close();
  }
}

/** The representative of a kind for the CLI: a multiple-of-C size, the instance nearest the end. */
function representative<T extends { size: number; kind: string }>(
  targets: readonly T[],
  kind: string,
  C: number,
): T | undefined {
  const ofKind = targets.filter((t) => t.kind === kind);
  for (const P of [2 * C, 3 * C + 5, C, 0]) {
    const here = ofKind.filter((t) => t.size === P);
    if (here.length > 0) return here[here.length - 1];
  }
  return ofKind[ofKind.length - 1];
}

async function searchPath(path: FileWritePath, pathIndex: number): Promise<void> {
  const C = path.chunkSize;
  interface Target {
    size: number;
    kind: string;
    instance: string;
    file: string;
    mutated: boolean;
    recorded: boolean;
  }
  const targets: Target[] = [];
  const add = (t: Target, read: string, judgement: Judgement) =>
    tally.add({ path: path.name, size: t.size, kind: t.kind, instance: t.instance, read }, judgement);

  await mapLimit(sizesFor(C), 2, async (P) => {
    const data = plaintextOf('file', P);
    const original = join(tmp, `${pathIndex}-${P}-original`);
    await path.write(data, original);
    const bytes = readFileSync(original);
    const framed = split(bytes);
    const l: Layout = layout(P, C);
    if (framed.body.length !== l.S)
      throw new Error(`${path.name}: ${framed.body.length}-byte body for ${P}, FORMAT.md §8 says ${l.S}`);
    const recorded = ((Buffer.from(framed.strings.h as string, 'base64url')[7] ?? 0) & 1) === 1;
    targets.push({ size: P, kind: CONTROL, instance: 'unmutated', file: original, mutated: false, recorded });
    const donor = split(Buffer.from(await encryptBuffer(plaintextOf('donor', P), { keyring, chunkSize: C })));
    const edits: { kind: string; instance: string; bytes: Buffer }[] = [
      ...bodyMutations(l).map((m) => ({
        kind: m.kind as string,
        instance: m.instance,
        bytes: join3({ strings: framed.strings, body: m.apply(framed.body, { foreign: donor.body }) }),
      })),
      ...(metadataSizes(C).includes(P) ? METADATA_MUTATIONS : []).map((m) => ({
        kind: fileKind(m.kind),
        instance: 'header',
        bytes: join3({
          strings: m.apply(framed.strings, {
            other: donor.strings as Required<DetachedStrings>,
            otherHeldKeyId: 'k-old',
          }),
          body: framed.body,
        }),
      })),
    ];
    edits.forEach((edit, i) => {
      if (edit.bytes.equals(bytes))
        throw new Error(`mutation ${edit.kind} (${edit.instance}) left the ${P}-byte file unchanged`);
      const file = join(tmp, `${pathIndex}-${P}-m${i}`);
      writeFileSync(file, edit.bytes);
      targets.push({ size: P, kind: edit.kind, instance: edit.instance, file, mutated: true, recorded });
    });
  });

  // In process: the full cross product.
  await mapLimit(targets, 8, async (t) => {
    const original = plaintextOf('file', t.size);
    const whole = expectedFor({ kind: 'whole' }, t.size);
    const bytes = readFileSync(t.file);
    add(t, 'decryptBuffer', judgeRead(await observe(() => decryptBuffer(bytes, { keyring })), original, whole));
    const pieces = Array.from({ length: Math.ceil(bytes.length / 1000) }, (_, i) =>
      bytes.subarray(i * 1000, i * 1000 + 1000),
    );
    add(
      t,
      'decryptStream',
      judgeRead(await observe(() => decryptStream(Readable.from(pieces), { keyring })), original, whole),
    );
    const ranges = rangesFor(t.size, C);
    for (const [read, name] of OPEN_READS) add(t, read, await openAndRead(t.file, ranges[name], t.size, t.recorded));
  });

  // The CLI, sampled: every kind once (and every control), whole; the cut also with --range.
  const sampled = [
    ...targets.filter((t) => t.kind === CONTROL),
    ...KINDS.filter((k) => k !== CONTROL).map((k) => representative(targets, k, C)),
  ].filter((t): t is Target => !!t);
  await mapLimit(sampled, 2, async (t) => {
    const out = `${t.file}.out`;
    rmSync(out, { force: true });
    const run = await runCli(['decrypt', t.file, '-o', out, '-k', keyringFile, '-q']);
    let output: Buffer | undefined;
    try {
      output = readFileSync(out);
    } catch {
      output = undefined;
    }
    rmSync(out, { force: true });
    add(t, CLI_WHOLE, judgeStrict({ exit: run.exit, output }, plaintextOf('file', t.size), t.mutated));
  });
  const cut = representative(targets, 'cut at boundary +40', C);
  if (cut) {
    const spec = rangesFor(cut.size, C).from;
    const run = await runCli([
      'decrypt',
      cut.file,
      '-o',
      '-',
      `--range=${(rangeHeader(spec) as string).replace(/^bytes=/, '')}`,
      '-k',
      keyringFile,
      '-q',
    ]);
    add(
      cut,
      CLI_RANGE,
      run.exit === 0
        ? judgeRead({ kind: 'data', data: run.stdout }, plaintextOf('file', cut.size), expectedFor(spec, cut.size))
        : { verdict: 'refused', detail: `exit ${run.exit}: ${run.stderr.trim().slice(0, 160)}` },
    );
  }
}

describe.each(FILE_PATHS.map((p, i) => ({ ...p, i })))('$name', (path) => {
  const state: { failure?: unknown } = {};
  beforeAll(async () => {
    try {
      await searchPath(path, path.i);
    } catch (error) {
      state.failure = error;
    }
  });
  describe.each(KINDS)('%s', (kind) => {
    test.each(READS)('%s', (read) => expectClean(tally.select(path.name, kind, read), state.failure));
    if (kind === 'cut at boundary +40') {
      test(CLI_RANGE, () => expectClean(tally.select(path.name, kind, CLI_RANGE), state.failure));
    }
  });
});
