import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { EncryptedStreamError, ErrorCode, openStreamCipher, type StreamCipher } from '@encrypted-stream/codec';
import {
  type BodyRunOptions,
  CHUNK_OVERHEAD,
  chunkOffset,
  ciphertextSize,
  createStreamCipher,
  type EncryptionHeader,
  fromBase64Url,
  fromDetachedHeader,
  plaintextSize,
  toBase64Url,
  toDetachedHeader,
} from '@encrypted-stream/codec/low-level';
import { streamedRequestBody } from '#body-streams';
import { bodySource, isInMemory, knownLength } from './body';
import { EncryptedS3Error, S3ErrorCode } from './errors';
import { listAllParts } from './list-parts';
import { assertPartSize, type ResolvedOptions } from './options';
import { encryptIntoBuffer } from './part-buffers';

/**
 * The encryption state of one multipart upload: parts are encrypted
 * independently (part n starts at chunk (n-1)·partSize/chunkSize), so they
 * can be sent in parallel, out of order, from several processes.
 */
export interface UploadState {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  /** Plaintext bytes of every part but the last. */
  readonly partSize: number;
  readonly cipher: StreamCipher;
  /**
   * The part marked final and its plaintext length, once one is: a stream has
   * one final chunk, so no other part may be marked final and none may follow it.
   */
  finalPart?: { readonly number: number; readonly length: number };
  /** The highest part number encrypted so far (a final part must not come before it). */
  highestPart?: number;
  /**
   * lib-storage's conventions (an upload created without a part size in
   * `withEncryption`): nobody marks the last part, so CompleteMultipartUpload
   * ends the stream (see `stream-end.ts`), part {@link MAX_PARTS} is always
   * final, and a part 1 that another part must follow holds exactly
   * `partSize` bytes. Without it, the caller marks the final part (`lastPart`).
   */
  readonly completeEnds?: boolean;
  /** CreateMultipartUpload's ChecksumAlgorithm: a part the plugin adds itself must carry the same. */
  readonly checksumAlgorithm?: string;
}

/** S3's highest part number. */
export const MAX_PARTS = 10_000;

/** S3's smallest part (5 MiB): every part but the last must hold at least this many bytes. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

/** Throws RangeError unless `partNumber` is one S3 accepts (1 … 10,000). */
export function assertPartNumber(partNumber: number): void {
  if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw new RangeError(`PartNumber must be 1 … ${MAX_PARTS}, got ${partNumber}`);
  }
}

/**
 * The part size an upload created without one takes from its part 1: every
 * part but the last holds the same number of bytes (lib-storage cuts them so),
 * and part 1, always sent first, is never the last of several. `undefined`
 * when part 1 is the upload's only part: marked final, or (unmarked) under
 * S3's 5 MiB minimum for a part that another follows. A part 1 whose length
 * cannot be a part size is a RangeError, thrown before anything is sent, that
 * says what to set.
 */
export function partSizeFromPartOne(length: number, chunkSize: number, isLastPart?: boolean): number | undefined {
  if (isLastPart === true || (isLastPart === undefined && length < MIN_PART_SIZE)) return undefined;
  if (length <= 0 || length % chunkSize !== 0) {
    const suggestion = Math.max(1, Math.ceil(length / chunkSize)) * chunkSize;
    throw new RangeError(
      `part 1 holds ${length} bytes; without a part size set at CreateMultipartUpload, part 1 sets the ` +
        `upload's part size, which must be a multiple of the ${chunkSize}-byte chunk size: give lib-storage a ` +
        `partSize that is a multiple of ${chunkSize} (such as ${suggestion}), set the part size with ` +
        'withEncryption(input, { partSize }), or mark a single part with lastPart()',
    );
  }
  return length;
}

/** A new stream for a multipart upload; its size is recorded in the header when known. */
export async function newUploadCipher(
  options: ResolvedOptions,
  bucket: string,
  key: string,
  plaintextSize?: number,
): Promise<StreamCipher> {
  return createStreamCipher({
    keyring: options.keyring,
    chunkSize: options.chunkSize,
    context: options.contextFor({ bucket, key }),
    ...(plaintextSize === undefined ? {} : { plaintextSize }),
  });
}

/** Checks a part size against the upload's chunk size. */
export function checkPartSize(partSize: number, cipher: StreamCipher): number {
  assertPartSize(partSize, cipher.chunkSize);
  return partSize;
}

/** A part's plaintext length; a TypeError for a body whose length cannot be known without reading it. */
export function partLength(body: unknown, contentLength: number | undefined): number {
  const length = knownLength(body, contentLength);
  if (length === undefined) {
    throw new TypeError('an encrypted part needs a body of known length (bytes, Blob, file stream or ContentLength)');
  }
  return length;
}

/**
 * Encrypts one part (for a streamed body, `failed` rejects if encrypting it
 * fails: race it against the send, see `toRequestBody`). A part is final when marked so, or when it is shorter
 * than the part size (only the last part can be). Every other part must hold
 * exactly `partSize` bytes.
 */
export async function encryptPart(
  state: UploadState,
  partNumber: number,
  body: unknown,
  contentLength: number | undefined,
  isLastPart: boolean | undefined,
): Promise<EncryptedPart> {
  return encryptPlacedPart(state, placePart(state, partNumber, body, contentLength, isLastPart), body);
}

/** A part checked against the stream and recorded in its upload's state ({@link placePart}). */
export interface PlacedPart {
  readonly partNumber: number;
  /** Plaintext bytes. */
  readonly length: number;
  /** Whether the part ends the stream. */
  readonly final: boolean;
}

/** An encrypted part: what UploadPart sends. */
export interface EncryptedPart {
  /** Bytes; or, for a streamed body, a Node stream (a Blob in browsers, see `#body-streams`). */
  readonly Body: Uint8Array | Readable | Blob;
  readonly ContentLength: number;
  /** For a streamed body: rejects if encrypting it fails (race it against the send). */
  readonly failed?: Promise<never>;
  /**
   * For an in-memory body: hands its buffer back to the upload once the
   * UploadPart that sent it succeeded (see part-buffers.ts); not an SDK field.
   */
  readonly release?: () => void;
}

/**
 * The first, synchronous half of {@link encryptPart}: checks the part number,
 * its length and its place in the stream (RangeError/TypeError, or
 * `ES_INVALID_UPLOAD` for a second end) and records it in `state`.
 */
export function placePart(
  state: UploadState,
  partNumber: number,
  body: unknown,
  contentLength: number | undefined,
  isLastPart: boolean | undefined,
): PlacedPart {
  assertPartNumber(partNumber);
  return placeLength(state, partNumber, partLength(body, contentLength), isLastPart);
}

/** {@link placePart} of a part of `length` plaintext bytes (a presigned part, whose body comes later). */
export function placeLength(
  state: UploadState,
  partNumber: number,
  length: number,
  isLastPart: boolean | undefined,
): PlacedPart {
  assertPartNumber(partNumber);
  return { partNumber, length, final: checkPartPlace(state, partNumber, length, isLastPart) };
}

/** The second half of {@link encryptPart}: encrypts a placed part at its chunks. */
export async function encryptPlacedPart(state: UploadState, placed: PlacedPart, body: unknown): Promise<EncryptedPart> {
  const { cipher } = state;
  const run = partRun(state, placed);
  const ContentLength = partCipherLength(state, placed);
  if (isInMemory(body)) {
    const { body: Body, release } = encryptIntoBuffer(
      state,
      cipher,
      bodySource(body) as Uint8Array,
      run,
      ContentLength,
    );
    return { Body, ContentLength, release };
  }
  const streamed = await streamedRequestBody(cipher, bodySource(body), run);
  return { Body: streamed.body, ...(streamed.failed ? { failed: streamed.failed } : {}), ContentLength };
}

/** Where a placed part's chunks sit in the stream, and its length: what encrypting it checks. */
export function partRun(state: UploadState, placed: PlacedPart): BodyRunOptions {
  const { partNumber, length, final } = placed;
  return { firstChunk: (partNumber - 1) * (state.partSize / state.cipher.chunkSize), final, length };
}

/** The ciphertext bytes of a placed part: what UploadPart's content-length says. */
export function partCipherLength(state: UploadState, placed: PlacedPart): number {
  const { chunkSize } = state.cipher;
  return placed.final ? ciphertextSize(placed.length, chunkSize) : chunkOffset(placed.length / chunkSize, chunkSize);
}

/**
 * Decides whether a part is the final one and checks that it fits the stream:
 * with a recorded size, the size fixes the last part number and every part's
 * length; without one, a part is final when marked or shorter than the part
 * size (or, under lib-storage's conventions, numbered 10,000), and a stream
 * gets at most one final part, with no part after it.
 */
function checkPartPlace(state: UploadState, partNumber: number, length: number, isLastPart?: boolean): boolean {
  const recorded = state.cipher.header.stream.plaintextSize;
  if (recorded !== undefined) {
    const lastNumber = Math.max(1, Math.ceil(recorded / state.partSize));
    if (partNumber > lastNumber) {
      throw new RangeError(`part ${partNumber} is past the last part (${lastNumber}) of a ${recorded}-byte upload`);
    }
    const expected = partNumber < lastNumber ? state.partSize : recorded - (lastNumber - 1) * state.partSize;
    if (length !== expected) {
      throw new RangeError(
        `part ${partNumber} of a ${recorded}-byte upload must hold ${expected} bytes, got ${length}`,
      );
    }
    if (isLastPart !== undefined && isLastPart !== (partNumber === lastNumber)) {
      throw new RangeError(
        `part ${partNumber} ${isLastPart ? 'is not' : 'is'} the last part of a ${recorded}-byte upload`,
      );
    }
    return partNumber === lastNumber;
  }
  const final = isLastPart ?? (length < state.partSize || (state.completeEnds === true && partNumber === MAX_PARTS));
  if (!final && length !== state.partSize) {
    throw new RangeError(
      `part ${partNumber} holds ${length} bytes: every part but the last must hold exactly ${state.partSize}` +
        (state.completeEnds ? ` (give lib-storage partSize ${state.partSize}, the plugin's partSize option)` : ''),
    );
  }
  if (state.completeEnds && partNumber === 1 && isLastPart === undefined && final && length >= MIN_PART_SIZE) {
    // Only a part of S3's minimum size or more can have another after it: such a part 1 is lib-storage's
    // first part cut to another size, and taking it as the end would fail at part 2, after sending part 1.
    throw new RangeError(
      `part 1 holds ${length} bytes, but this upload's part size is ${state.partSize} (the plugin's partSize ` +
        `option): give lib-storage partSize ${state.partSize}, or mark a single part with lastPart()`,
    );
  }
  recordPart(state, partNumber, length, final);
  return final;
}

/**
 * Records a part in the upload state, refusing one that would give the
 * stream a second end: a part after the final one, a second or different
 * final part, a final part before an uploaded part, the final part turned
 * into a middle one.
 */
function recordPart(state: UploadState, partNumber: number, length: number, final: boolean): void {
  const invalid = (why: string) => new EncryptedS3Error(S3ErrorCode.INVALID_UPLOAD, `upload ${state.uploadId}: ${why}`);
  const marked = state.finalPart;
  if (marked && partNumber > marked.number) {
    throw invalid(`part ${partNumber} would follow part ${marked.number}, which ends the stream`);
  }
  if (final) {
    if (marked && (marked.number !== partNumber || marked.length !== length)) {
      throw invalid(
        `part ${marked.number} (${marked.length} bytes) already ends the stream: a stream has one final part`,
      );
    }
    if (state.highestPart !== undefined && partNumber < state.highestPart) {
      throw invalid(`part ${partNumber} cannot end the stream: part ${state.highestPart} was uploaded`);
    }
    state.finalPart = { number: partNumber, length };
  } else if (marked && partNumber === marked.number) {
    throw invalid(`part ${partNumber} was uploaded as the final part; it cannot become a middle part`);
  }
  state.highestPart = Math.max(state.highestPart ?? 0, partNumber);
}

/**
 * Brings a resumed state up to what is already known of the upload: the
 * parts S3 lists (a part that does not fill whole chunks ends the stream) and
 * the state of the same upload this process still holds, so resuming — even
 * from an old token — never forgets a final part or a later part.
 */
export function adoptKnownParts(state: UploadState, listed: readonly ListedPart[], live?: UploadState): void {
  const stride = state.cipher.chunkSize + CHUNK_OVERHEAD;
  const known: { number: number; length: number; final: boolean }[] = [];
  for (const { PartNumber, Size } of listed) {
    if (PartNumber === undefined || Size === undefined) continue;
    const final = Size % stride >= CHUNK_OVERHEAD;
    known.push({ number: PartNumber, length: final ? plaintextSize(Size, state.cipher.chunkSize) : 0, final });
  }
  if (live?.finalPart) known.push({ ...live.finalPart, final: true });
  if (live?.highestPart !== undefined) known.push({ number: live.highestPart, length: 0, final: false });
  // Middle parts first, then final ones: the same checks as uploading them in that order.
  known.sort((a, b) => Number(a.final) - Number(b.final) || a.number - b.number);
  for (const part of known) {
    if (part.final) recordPart(state, part.number, part.length, true);
    else state.highestPart = Math.max(state.highestPart ?? 0, part.number);
  }
}

/**
 * {@link adoptKnownParts} with the parts S3 lists for the upload; nothing to
 * list when the header records the size (it fixes every part).
 */
export async function adoptListedParts(client: S3Client, state: UploadState, live?: UploadState): Promise<void> {
  if (state.cipher.header.stream.plaintextSize !== undefined) return;
  adoptKnownParts(state, await listAllParts(client, state.bucket, state.key, state.uploadId), live);
}

/** A part as S3 lists it. */
export interface ListedPart {
  readonly PartNumber?: number;
  readonly Size?: number;
}

/**
 * Refuses to complete an upload whose parts do not form one readable stream:
 * parts must be numbered 1…N without gaps, all but the last exactly one
 * encrypted part long, and the last must end with a final chunk (it was marked).
 */
export function verifyParts(state: UploadState, requested: readonly { PartNumber?: number }[], listed: ListedPart[]) {
  const invalid = (why: string) => new EncryptedS3Error(S3ErrorCode.INVALID_UPLOAD, `upload ${state.uploadId}: ${why}`);
  const numbers = requested.map((p) => p.PartNumber ?? 0).sort((a, b) => a - b);
  if (numbers.length === 0) throw invalid('no parts');
  numbers.forEach((n, i) => {
    if (n !== i + 1) throw invalid(`parts must be numbered 1…${numbers.length} without gaps or repeats`);
  });
  const sizes = new Map(listed.map((p) => [p.PartNumber, p.Size]));
  const stride = state.cipher.chunkSize + CHUNK_OVERHEAD;
  const fullPart = chunkOffset(state.partSize / state.cipher.chunkSize, state.cipher.chunkSize);
  for (const n of numbers) {
    const size = sizes.get(n);
    if (size === undefined) throw invalid(`part ${n} was not uploaded`);
    if (n < numbers.length && size !== fullPart) throw invalid(`part ${n} is ${size} bytes, not a full part`);
    if (n === numbers.length && size % stride < CHUNK_OVERHEAD) {
      throw invalid(`part ${n} does not end the stream: the final part was never marked (isLastPart)`);
    }
  }
}

/** What a resume token holds: never an unwrapped key, only the wrapped header; `m` authenticates the rest. */
interface ResumeTokenBody {
  readonly v: 2;
  readonly b: string;
  readonly k: string;
  readonly u: string;
  readonly p: number;
  readonly h: ReturnType<typeof toDetachedHeader>;
  /** The final part, once marked: `[number, plaintext length]`. */
  readonly f?: readonly [number, number];
  readonly m: string;
}

const TOKEN_MAC_PURPOSE = 'encrypted-stream s3 resume token';

/** The token's fields in one fixed order: what its MAC covers. */
function tokenFields(body: Omit<ResumeTokenBody, 'm'>): Uint8Array {
  const { v, b, k, u, p, h, f } = body;
  return new TextEncoder().encode(JSON.stringify([v, b, k, u, p, h.h, h.k, h.w, f ?? null]));
}

/**
 * A serialisable token from which another process can resume the upload
 * (it needs the same keyring). Holds the wrapped data key only, and a MAC
 * under a key derived from the data key over every field, so nobody without
 * the data key can make or edit one.
 */
export function toResumeToken(state: UploadState): string {
  const fields = {
    v: 2 as const,
    b: state.bucket,
    k: state.key,
    u: state.uploadId,
    p: state.partSize,
    h: toDetachedHeader(state.cipher.header),
    ...(state.finalPart ? { f: [state.finalPart.number, state.finalPart.length] as const } : {}),
  };
  const m = toBase64Url(state.cipher.stateMac(TOKEN_MAC_PURPOSE, tokenFields(fields)));
  return toBase64Url(new TextEncoder().encode(JSON.stringify({ ...fields, m })));
}

/** Where the caller means to write: a token for another destination is refused. */
export interface ResumeDestination {
  readonly bucket?: string;
  readonly key?: string;
}

const TOKEN_KEYS = new Set(['v', 'b', 'k', 'u', 'p', 'h', 'f', 'm']);

/** Parses a token's JSON, checking every field's type (before any key is unwrapped). */
function parseResumeToken(token: string): { body: ResumeTokenBody; header: EncryptionHeader } {
  const bytes = fromBase64Url(token);
  if (!bytes) throw new Error('base64url');
  const body = JSON.parse(new TextDecoder().decode(bytes)) as ResumeTokenBody;
  const { v, b, k, u, p, f, m } = body;
  const ok =
    v === 2 &&
    Object.keys(body).every((name) => TOKEN_KEYS.has(name)) &&
    [b, k, u, m].every((field) => typeof field === 'string') &&
    (f === undefined || (Array.isArray(f) && f.length === 2 && f.every((n) => Number.isSafeInteger(n) && n >= 0)));
  if (!ok) throw new Error('fields');
  const header = fromDetachedHeader(body.h);
  assertPartSize(p, header.stream.chunkSize);
  return { body, header };
}

/**
 * Parses a resume token, unwraps its data key and checks its MAC; with a
 * destination, refuses a token for another bucket or key.
 */
export async function fromResumeToken(
  token: string,
  options: ResolvedOptions,
  destination: ResumeDestination = {},
): Promise<UploadState> {
  const invalid = (why: string, cause?: unknown) =>
    new EncryptedS3Error(S3ErrorCode.INVALID_RESUME_TOKEN, `resume token: ${why}`, { cause });
  if (typeof token !== 'string') throw new TypeError('resume token must be a string');
  let parsed: ReturnType<typeof parseResumeToken>;
  try {
    parsed = parseResumeToken(token);
  } catch {
    throw invalid('not a valid resume token');
  }
  const { body, header } = parsed;
  const differs = (name: string, wanted: string | undefined, held: string) => {
    if (wanted !== undefined && wanted !== held) throw invalid(`it is for another ${name} than the one given`);
  };
  differs('bucket', destination.bucket, body.b);
  differs('key', destination.key, body.k);
  let cipher: StreamCipher;
  try {
    cipher = await openStreamCipher(header, {
      keyring: options.keyring,
      context: options.contextFor({ bucket: body.b, key: body.k }),
    });
  } catch (error) {
    // A key id the keyring lacks is the caller's keyring; anything else means an
    // edited token (or a keyring/context that is not the upload's): one code for
    // scripts, the codec's reason in the message and `cause`.
    if (error instanceof EncryptedStreamError && error.code !== ErrorCode.UNKNOWN_KEY) {
      throw invalid(`its header does not open with this keyring and context (${error.code})`, error);
    }
    throw error;
  }
  const { m, ...fields } = body;
  const mac = fromBase64Url(m);
  if (!mac || !cipher.verifyStateMac(TOKEN_MAC_PURPOSE, tokenFields(fields), mac)) {
    throw invalid('it failed authentication (edited, or made for another upload)');
  }
  const state: UploadState = { bucket: body.b, key: body.k, uploadId: body.u, partSize: body.p, cipher };
  if (body.f) state.finalPart = { number: body.f[0], length: body.f[1] };
  return state;
}
