/**
 * The adversary's tools (a plain S3 client with write access to the bucket)
 * and the victim's reads (a client with the encryption plugin), with the
 * assertions every case makes and the figure it records:
 * `recordFigure('adversary', case, 'detected' | 'undetectable-by-design')`.
 */

import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import {
  CopyObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { LocalKeyring } from '@encrypted-stream/codec';
import { CHUNK_OVERHEAD, DEFAULT_CHUNK_SIZE } from '@encrypted-stream/codec/low-level';
import { METADATA_KEYS } from '@encrypted-stream/s3';
import { consume, FIGURES_PATH, readAll, recordFigure, type TestBucket, useEncryptedBucket } from '../helpers';

export const C = DEFAULT_CHUNK_SIZE;
export const STRIDE = C + CHUNK_OVERHEAD;
export const { h: ES_H, k: ES_K, w: ES_W } = METADATA_KEYS;

/** The victim's master keys: adv-1 wraps new objects, adv-0 is an older key a keyring may also hold. */
export const MASTER_KEYS = { 'adv-0': new Uint8Array(32).fill(0xa0), 'adv-1': new Uint8Array(32).fill(0xa1) };

/** A keyring of the victim's master keys `ids`, adv-1 its primary key. */
export function victimKeyring(...ids: (keyof typeof MASTER_KEYS)[]): LocalKeyring {
  return new LocalKeyring(Object.fromEntries(ids.map((id) => [id, MASTER_KEYS[id]])), 'adv-1');
}

/** A test file's bucket, and the victim: a keyring of the master keys `ids` and a client with the plugin using it. */
export function useVictim(label: string, ...ids: (keyof typeof MASTER_KEYS)[]) {
  const keyring = victimKeyring(...ids);
  const { bucket, enc } = useEncryptedBucket(label, { keyring });
  return { bucket, keyring, victim: enc.client };
}

/** An object exactly as the server stores it. */
export interface RawObject {
  body: Buffer;
  metadata: Record<string, string>;
  contentType?: string | undefined;
}

/** Reads an object's stored bytes and metadata (plain client). */
export async function getRaw(plain: S3Client, Bucket: string, Key: string): Promise<RawObject> {
  const out = await plain.send(new GetObjectCommand({ Bucket, Key }));
  return { body: await readAll(out.Body), metadata: { ...out.Metadata }, contentType: out.ContentType };
}

/** Stores bytes and metadata as given (plain client): the adversary's write. */
export async function putRaw(plain: S3Client, Bucket: string, Key: string, raw: RawObject): Promise<void> {
  await plain.send(
    new PutObjectCommand({
      Bucket,
      Key,
      Body: raw.body,
      Metadata: raw.metadata,
      ...(raw.contentType ? { ContentType: raw.contentType } : {}),
    }),
  );
}

/** A server-side copy by the adversary (metadata copied with the object). */
export async function copyRaw(
  plain: S3Client,
  from: { Bucket: string; Key: string },
  to: { Bucket: string; Key: string },
) {
  await plain.send(
    new CopyObjectCommand({
      Bucket: to.Bucket,
      Key: to.Key,
      CopySource: `${from.Bucket}/${encodeURIComponent(from.Key)}`,
    }),
  );
}

/** A copy of a raw object, for editing. */
export function clone(raw: RawObject): RawObject {
  return { body: Buffer.from(raw.body), metadata: { ...raw.metadata }, contentType: raw.contentType };
}

/** The adversary's write into `bucket`: stores an edited copy of `from` under a fresh key and returns that key. */
export function tamperer(bucket: TestBucket) {
  let counter = 0;
  return async (from: RawObject, edit: (raw: RawObject) => void): Promise<string> => {
    const raw = clone(from);
    edit(raw);
    const key = `tampered/${++counter}`;
    await putRaw(bucket.client, bucket.name, key, raw);
    return key;
  };
}

/** XORs one byte of `bytes` with `mask`. */
export function flip(bytes: Buffer, at: number, mask = 0x01): void {
  bytes[at] = (bytes[at] as number) ^ mask;
}

/** Edits the 96 decoded bytes of es-h. */
export function editStreamHeader(metadata: Record<string, string>, edit: (header: Buffer) => void): void {
  const header = Buffer.from(metadata[ES_H] as string, 'base64url');
  edit(header);
  metadata[ES_H] = header.toString('base64url');
}

/** Edits the decoded wrapped key of es-w. */
export function editWrappedKey(metadata: Record<string, string>, edit: (wrapped: Buffer) => Buffer | undefined): void {
  const wrapped = Buffer.from(metadata[ES_W] as string, 'base64url');
  metadata[ES_W] = (edit(wrapped) ?? wrapped).toString('base64url');
}

/** What the victim got from a read. */
export type ReadOutcome =
  | { ok: true; data: Buffer; contentRange: string | undefined; metadata: Record<string, string> | undefined }
  | { ok: false; stage: 'request' | 'body'; code: string; delivered: Buffer; error: unknown };

function codeOf(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown };
  return typeof e?.code === 'string' ? e.code : String(e?.name ?? error);
}

/**
 * The victim's GetObject through `client` (with the plugin): the plaintext, or
 * the error and what was delivered before it (a failing body is read piece by
 * piece so nothing delivered is lost).
 */
export async function victimRead(client: S3Client, Bucket: string, Key: string, Range?: string): Promise<ReadOutcome> {
  let out: GetObjectCommandOutput;
  try {
    out = await client.send(new GetObjectCommand({ Bucket, Key, Range }));
  } catch (error) {
    return { ok: false, stage: 'request', code: codeOf(error), delivered: Buffer.alloc(0), error };
  }
  const pieces: Buffer[] = [];
  try {
    await consume(out.Body, (p) => pieces.push(Buffer.from(p)));
  } catch (error) {
    return { ok: false, stage: 'body', code: codeOf(error), delivered: Buffer.concat(pieces), error };
  }
  return { ok: true, data: Buffer.concat(pieces), contentRange: out.ContentRange, metadata: out.Metadata };
}

/** Every case recorded so far in this file (name → outcome), for the tests' own cross-checks. */
export const recorded = new Map<string, 'detected' | 'undetectable-by-design'>();

/** Every case with the test that shows it, for SECURITY.md's table (`.tmp/reliability/adversary-cases.jsonl`). */
export const CASES_PATH = join(dirname(FIGURES_PATH), 'adversary-cases.jsonl');

function record(name: string, value: 'detected' | 'undetectable-by-design'): void {
  recorded.set(name, value);
  recordFigure('adversary', name, value);
  const { testPath, currentTestName } = expect.getState();
  const line = {
    case: name,
    outcome: value,
    file: testPath ? relative(join(__dirname, '..', '..'), testPath) : undefined,
    test: currentTestName,
  };
  mkdirSync(dirname(CASES_PATH), { recursive: true });
  appendFileSync(CASES_PATH, `${JSON.stringify(line)}\n`);
}

/**
 * Asserts the read failed with `code` and released nothing unauthenticated: what
 * was delivered is the original plaintext from `from` up to a chunk boundary, and
 * no more than `atMost` bytes (the chunks before the tampered one).
 * Records the case as detected.
 */
export function expectDetected(
  name: string,
  outcome: ReadOutcome,
  code: string,
  original?: { plaintext: Buffer; from?: number; atMost?: number },
): void {
  if (outcome.ok)
    throw new Error(`${name}: the tampered object was read (${outcome.data.length} bytes), expected ${code}`);
  expect(outcome.code).toBe(code);
  if (original) {
    const from = original.from ?? 0;
    const got = outcome.delivered;
    expect(got.equals(original.plaintext.subarray(from, from + got.length))).toBe(true);
    if (got.length > 0)
      expect((from + got.length) % C === 0 || from + got.length === original.plaintext.length).toBe(true);
    // At most the authentic chunks before the failing one (a stream that errors may also drop
    // chunks it had buffered, which is safe: fewer bytes, never unauthenticated ones).
    if (original.atMost !== undefined) expect(got.length).toBeLessThanOrEqual(original.atMost);
  }
  record(`${name} → ${code}`, 'detected');
}

/**
 * Asserts the read SUCCEEDED with `content`: tampering the format cannot detect
 * by design (documented in SECURITY.md). Records the case as such.
 */
export function expectUndetectable(name: string, outcome: ReadOutcome, content: Buffer): void {
  if (!outcome.ok)
    throw new Error(`${name}: expected the read to succeed (undetectable by design), got ${outcome.code}`);
  expect(outcome.data.equals(content)).toBe(true);
  record(`${name} → read succeeds`, 'undetectable-by-design');
}

/** Asserts a read succeeded with exactly `content` (an untampered region), without recording a case. */
export function expectIntact(outcome: ReadOutcome, content: Buffer): void {
  if (!outcome.ok) throw new Error(`expected an intact read, got ${outcome.code}`);
  expect(outcome.data.equals(content)).toBe(true);
}

/** Deterministic plaintext for an object (distinct per label). */
export function plaintextFor(label: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = 0x811c9dc5;
  for (const ch of label) x = Math.imul(x ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
