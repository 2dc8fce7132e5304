/**
 * The search's oracle. Every read of a (mutated or control) stream is judged
 * against the ORIGINAL plaintext it was written with:
 *
 * - `intact`: exactly the original bytes the read asked for (or a legitimate
 *   416: the range is outside the ORIGINAL object);
 * - `refused`: a typed error (an EncryptedStreamError `code`, ES_*), an error
 *   status or a cut connection (gateway), a non-zero exit and no output (CLI),
 *   having released at most a prefix of the original slice;
 * - `violation`: anything else — other or fewer bytes passed off as complete,
 *   bytes released that are not the original's, an untyped error, a 416 (or a
 *   HeadObject size) claiming a size the original did not have, a CLI success.
 *
 * Reads that must authenticate everything (CLI get / verify / decrypt of the
 * whole object) are `strict`: for them a mutated object must be refused.
 */

export type Verdict = 'intact' | 'refused' | 'violation';

/** What a read asked for, in terms of the original plaintext. */
export type Expected =
  | { readonly kind: 'slice'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

/** A read's range, as the victim writes it. */
export type RangeSpec =
  | { readonly kind: 'whole' }
  | { readonly kind: 'bounded'; readonly start: number; readonly end: number }
  | { readonly kind: 'from'; readonly start: number }
  | { readonly kind: 'suffix'; readonly length: number };

export function rangeHeader(spec: RangeSpec): string | undefined {
  switch (spec.kind) {
    case 'whole':
      return undefined;
    case 'bounded':
      return `bytes=${spec.start}-${spec.end}`;
    case 'from':
      return `bytes=${spec.start}-`;
    case 'suffix':
      return `bytes=-${spec.length}`;
  }
}

/** RFC 9110 §14.1.2 on a `size`-byte representation (independent of the packages' own arithmetic). */
export function expectedFor(spec: RangeSpec, size: number): Expected {
  switch (spec.kind) {
    case 'whole':
      return { kind: 'slice', start: 0, end: size };
    case 'bounded':
      return spec.start >= size
        ? { kind: 'unsatisfiable' }
        : { kind: 'slice', start: spec.start, end: Math.min(spec.end + 1, size) };
    case 'from':
      return spec.start >= size ? { kind: 'unsatisfiable' } : { kind: 'slice', start: spec.start, end: size };
    case 'suffix':
      return spec.length === 0 || size === 0
        ? { kind: 'unsatisfiable' }
        : { kind: 'slice', start: Math.max(0, size - spec.length), end: size };
  }
}

/** The ranges every stream is read with, chosen from its ORIGINAL size `P` and chunk size `C`. */
export function rangesFor(P: number, C: number) {
  const lastBoundary = C * Math.max(1, Math.floor(P / C)); // a chunk boundary; the end itself when P is a multiple of C
  return {
    whole: { kind: 'whole' } as RangeSpec,
    /** `bytes=a-b` ending at the last byte, starting in the chunk before the last (or at 0). */
    end: { kind: 'bounded', start: Math.max(0, P - C - 1), end: Math.max(0, P - 1) } as RangeSpec,
    /** `bytes=a-b` ending at a chunk boundary (at the end itself when P is a multiple of C). */
    boundary: { kind: 'bounded', start: Math.max(0, lastBoundary - 1 - C / 2), end: lastBoundary - 1 } as RangeSpec,
    /** `bytes=a-` from the middle. */
    from: { kind: 'from', start: Math.floor(P / 2) } as RangeSpec,
    /** `bytes=-n` reaching into the chunk before the last. */
    suffix: { kind: 'suffix', length: C + 1 } as RangeSpec,
  };
}
export type RangeName = keyof ReturnType<typeof rangesFor>;

/** A judgement, with the observation in words (for the failure list). */
export interface Judgement {
  readonly verdict: Verdict;
  readonly detail: string;
}

const describeExpected = (e: Expected) =>
  e.kind === 'slice' ? `bytes [${e.start}, ${e.end}) (${e.end - e.start} bytes)` : 'a 416 (outside the original)';

/** Whether `got` is the original slice `[start, start + got.length)`. */
function isPrefixOf(got: Buffer, original: Buffer, expected: Expected): boolean {
  if (got.length === 0) return true;
  if (expected.kind !== 'slice') return false;
  if (got.length > expected.end - expected.start) return false;
  return got.equals(original.subarray(expected.start, expected.start + got.length));
}

/**
 * Whether bytes a failed read released are original plaintext at the position the
 * reader labelled them with (`offset`: its Content-Range start; the asked start if
 * it gave none). A read that fails may have sized its answer from an unauthenticated
 * size; what it released before failing must still be genuine, authenticated bytes.
 */
function isGenuineAt(got: Buffer, original: Buffer, offset: number): boolean {
  return got.length === 0 || got.equals(original.subarray(offset, offset + got.length));
}

/** The start of a `bytes a-b/total` Content-Range. */
export function contentRangeStart(header: string | undefined): number | undefined {
  const m = header ? /^bytes (\d+)-\d+\/\d+$/.exec(header.trim()) : null;
  return m ? Number(m[1]) : undefined;
}

/** An error's `code` (EncryptedStreamError and the S3 package's errors), else its name (S3's InvalidRange, TypeError…). */
export function errorCode(error: unknown): string {
  const e = error as { code?: unknown; name?: unknown };
  if (typeof e?.code === 'string') return e.code;
  if (typeof e?.name === 'string') return e.name;
  return String(error);
}

/** An error's message, shortened, for the failure list. */
export function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown })?.message;
  return typeof message === 'string' ? message.slice(0, 120) : String(error).slice(0, 120);
}
export const isTyped = (code: string) => /^ES_[A-Z_]+$/.test(code);

/** What an in-process read (plugin GetObject, codec reads) observed. */
export type ReadObservation =
  | { readonly kind: 'data'; readonly data: Buffer; readonly claimedSize?: number | undefined }
  | {
      readonly kind: 'error';
      readonly code: string;
      readonly message?: string;
      readonly delivered: Buffer;
      /** The plaintext position the reader gave the first delivered byte (its Content-Range start). */
      readonly offset?: number | undefined;
      readonly claimedSize?: number | undefined;
    };

/** How refusals by a 416 that states an unauthenticated size are labelled (counted apart in the figures). */
export const UNAUTHENTICATED_416 = 'refused on a size no read authenticated';

/** An in-process read: the original slice, or a typed error after at most a prefix of it. */
export function judgeRead(o: ReadObservation, original: Buffer, expected: Expected, sizeRecorded = true): Judgement {
  if (o.kind === 'data') {
    if (expected.kind === 'slice' && o.data.equals(original.subarray(expected.start, expected.end))) {
      return { verdict: 'intact', detail: 'the original bytes' };
    }
    const same = expected.kind === 'slice' && isPrefixOf(o.data, original, expected);
    return {
      verdict: 'violation',
      detail: `read completed with ${o.data.length} bytes${same ? ' (a strict prefix of the original: fewer bytes passed off as complete)' : ' (not the original bytes)'}, expected ${describeExpected(expected)}`,
    };
  }
  if (o.code === 'InvalidRange') {
    if (expected.kind === 'unsatisfiable') return { verdict: 'intact', detail: 'InvalidRange (outside the original)' };
    const claim = `InvalidRange claiming a ${o.claimedSize ?? '?'}-byte object for a range inside the original ${describeExpected(expected)}`;
    // A recorded size is authenticated: a 416 must honour it. Without one, a size no read reached the end of is
    // not authenticated by design (SECURITY.md, like HeadObject's): no bytes are passed off, the read is refused.
    return sizeRecorded
      ? { verdict: 'violation', detail: claim }
      : { verdict: 'refused', detail: `${UNAUTHENTICATED_416}: ${claim}` };
  }
  if (!isTyped(o.code)) return { verdict: 'violation', detail: `untyped error ${o.code}: ${o.message ?? ''}` };
  const offset = o.offset ?? (expected.kind === 'slice' ? expected.start : 0);
  if (!isGenuineAt(o.delivered, original, offset)) {
    return {
      verdict: 'violation',
      detail: `${o.code} after releasing ${o.delivered.length} bytes that are not the original's at ${offset}`,
    };
  }
  return { verdict: 'refused', detail: o.code };
}

/** HeadObject: where the original records its size, any size reported must be it. */
export function judgeHead(
  o: { kind: 'size'; size: number } | { kind: 'error'; code: string },
  originalSize: number,
): Judgement {
  if (o.kind === 'error') {
    return isTyped(o.code)
      ? { verdict: 'refused', detail: o.code }
      : { verdict: 'violation', detail: `untyped error ${o.code}` };
  }
  return o.size === originalSize
    ? { verdict: 'intact', detail: `ContentLength ${o.size}` }
    : {
        verdict: 'violation',
        detail: `HeadObject presents ContentLength ${o.size}, the original holds ${originalSize}`,
      };
}

/** What a gateway response looked like to an HTTP client. */
export interface HttpObservation {
  /** Undefined when the connection closed before a response head. */
  readonly status: number | undefined;
  readonly body: Buffer;
  /** The body ended cleanly (every announced byte, then the end). */
  readonly ended: boolean;
  readonly contentRange?: string | undefined;
}

/** The gateway: an error status or a cut connection, never a clean 200/206 with other or fewer bytes. */
export function judgeHttp(o: HttpObservation, original: Buffer, expected: Expected, ranged: boolean): Judgement {
  if (o.status === undefined) return { verdict: 'refused', detail: 'connection closed before a response' };
  if (o.status === 416) {
    return expected.kind === 'unsatisfiable'
      ? { verdict: 'intact', detail: '416 (outside the original)' }
      : {
          verdict: 'refused',
          detail: `${UNAUTHENTICATED_416}: 416 ${o.contentRange ?? ''} for a range inside the original`,
        };
  }
  if (o.status >= 400) return { verdict: 'refused', detail: `status ${o.status}` };
  if (o.status !== 200 && o.status !== 206) return { verdict: 'violation', detail: `status ${o.status}` };
  if (!o.ended) {
    const offset = contentRangeStart(o.contentRange) ?? 0;
    return isGenuineAt(o.body, original, offset)
      ? { verdict: 'refused', detail: `status ${o.status}, connection cut after ${o.body.length} bytes` }
      : {
          verdict: 'violation',
          detail: `connection cut after ${o.body.length} bytes that are not the original's at ${offset}`,
        };
  }
  const status = ranged ? 206 : 200;
  if (
    expected.kind === 'slice' &&
    o.status === status &&
    o.body.equals(original.subarray(expected.start, expected.end))
  ) {
    return { verdict: 'intact', detail: 'the original bytes' };
  }
  return {
    verdict: 'violation',
    detail: `clean ${o.status} with ${o.body.length} bytes, expected ${describeExpected(expected)}`,
  };
}

/**
 * A CLI command that must authenticate everything (get / decrypt of the whole
 * object, verify): a mutated object is refused (non-zero exit, no output
 * file); a control returns exactly the original.
 */
export function judgeStrict(
  o: { exit: number | null; output: Buffer | undefined },
  original: Buffer,
  mutated: boolean,
): Judgement {
  if (o.exit === 0) {
    if (!mutated && o.output && o.output.equals(original)) return { verdict: 'intact', detail: 'the original bytes' };
    return {
      verdict: 'violation',
      detail: `exit 0${o.output ? ` with ${o.output.length} bytes (${o.output.equals(original) ? 'the original' : `original: ${original.length}`})` : ''}`,
    };
  }
  if (o.output)
    return { verdict: 'violation', detail: `exit ${o.exit} but left a ${o.output.length}-byte output file` };
  return { verdict: 'refused', detail: `exit ${o.exit}` };
}
