import type { StreamCipher } from '@encrypted-stream/codec';
import { EncryptedS3Error, S3ErrorCode } from './errors';
import { partSizeFromPartOne, type UploadState } from './upload-state';

/**
 * An upload created through the plugin without any part size (lib-storage's
 * `Upload` never gives one): its part 1 sets it, see `partSizeFromPartOne`.
 */
export interface PendingUpload {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly cipher: StreamCipher;
  /** The part size recorded when part 1 turns out to be the only part (marked final, or under 5 MiB). */
  readonly fallbackPartSize: number;
  readonly checksumAlgorithm?: string;
}

/** How long a part waits for part 1 (default of {@link UploadRegistry}). */
export const PART_ONE_WAIT_MS = 10_000;

type Waiter = { readonly resolve: (state: UploadState) => void; readonly reject: (error: unknown) => void };

/** One upload this process holds. */
interface Entry {
  readonly bucket: string;
  readonly key: string;
  /** The upload's state; none yet while part 1 has to set the part size. */
  state?: UploadState;
  readonly pending?: PendingUpload;
  /**
   * Under lib-storage's conventions, whether part 1 was accepted: until it is,
   * parts whose place or role depends on it wait (see {@link UploadRegistry.forPart}).
   */
  partOne?: { accepted: boolean; refused?: unknown; readonly waiters: Set<Waiter> };
}

/**
 * The multipart uploads this process is encrypting, by UploadId. Only wrapped
 * keys leave it (as resume tokens); a crashed process's uploads are resumed
 * from their tokens.
 *
 * Under lib-storage's conventions (`completeEnds`, uploads created without
 * `withEncryption(input, { partSize })`) part 1 decides what the other parts
 * mean: it sets the part size when none is known, and a part shorter than a
 * known one is the stream's end only if part 1 holds that part size. Parts
 * that depend on it wait until part 1 was accepted, for at most
 * `partOneWaitMs`; when part 1 is refused, they fail with its error, before
 * anything of theirs is sent. lib-storage sends part 1 first: a part waits,
 * if at all, only until part 1 has been checked.
 */
export class UploadRegistry {
  readonly #uploads = new Map<string, Entry>();
  readonly #partOneWaitMs: number;

  constructor(options: { partOneWaitMs?: number } = {}) {
    this.#partOneWaitMs = options.partOneWaitMs ?? PART_ONE_WAIT_MS;
  }

  /** Holds an upload whose part size is known. */
  add(state: UploadState): void {
    this.#uploads.set(state.uploadId, {
      bucket: state.bucket,
      key: state.key,
      state,
      ...(state.completeEnds ? { partOne: { accepted: false, waiters: new Set<Waiter>() } } : {}),
    });
  }

  /** Holds an upload whose part 1 will set its part size (lib-storage's conventions). */
  addPending(upload: PendingUpload): void {
    this.#uploads.set(upload.uploadId, {
      bucket: upload.bucket,
      key: upload.key,
      pending: upload,
      partOne: { accepted: false, waiters: new Set() },
    });
  }

  #entry(uploadId: string, bucket: string, key: string): Entry {
    const entry = this.#uploads.get(uploadId);
    if (!entry || entry.bucket !== bucket || entry.key !== key) {
      throw new EncryptedS3Error(
        S3ErrorCode.UNKNOWN_UPLOAD,
        `no encryption state for upload ${uploadId} of s3://${bucket}/${key}: resume it from its token first`,
      );
    }
    return entry;
  }

  /**
   * The state of `uploadId`, checked against the bucket and key the command
   * names. An upload whose part 1 must still set its part size is
   * `ES_INVALID_UPLOAD`: it can be neither completed nor handed over yet.
   */
  get(uploadId: string, bucket: string, key: string): UploadState {
    const { state } = this.#entry(uploadId, bucket, key);
    if (!state) {
      throw new EncryptedS3Error(
        S3ErrorCode.INVALID_UPLOAD,
        `upload ${uploadId} has no part 1 yet, and its length sets this upload's part size ` +
          '(set one with withEncryption(input, { partSize }) at CreateMultipartUpload to hand an upload over before)',
      );
    }
    return state;
  }

  /**
   * The state part `partNumber` is to be encrypted with. Under lib-storage's
   * conventions: part 1 sets the part size if none is known (a RangeError that
   * says what to set if it cannot; then call {@link partOneRefused}); a later
   * part waits for part 1 to be accepted ({@link partOneAccepted}) when its
   * place depends on it (no part size yet) or its role does (unmarked and
   * shorter than the part size: the end of the stream only if part 1 is
   * whole).
   */
  async forPart(
    uploadId: string,
    bucket: string,
    key: string,
    part: { readonly partNumber: number; readonly length: number; readonly isLastPart?: boolean },
  ): Promise<UploadState> {
    const entry = this.#entry(uploadId, bucket, key);
    const { partOne, pending } = entry;
    if (!partOne || partOne.accepted) return this.get(uploadId, bucket, key);
    if (part.partNumber === 1) {
      if (entry.state) return entry.state;
      const upload = pending as PendingUpload;
      let partSize: number | undefined;
      try {
        partSize = partSizeFromPartOne(part.length, upload.cipher.chunkSize, part.isLastPart);
      } catch (error) {
        this.partOneRefused(uploadId, error);
        throw error;
      }
      const { fallbackPartSize, ...common } = upload;
      entry.state = { ...common, partSize: partSize ?? fallbackPartSize, completeEnds: true };
      return entry.state;
    }
    const { state } = entry;
    const dependsOnPartOne = !state || (part.isLastPart === undefined && part.length < state.partSize);
    if (!dependsOnPartOne) return state;
    if (partOne.refused !== undefined) throw partOne.refused;
    return this.#waitForPartOne(uploadId, partOne.waiters, part.partNumber);
  }

  /** Part 1 was accepted (its place in the stream checked): parts waiting for it go ahead. */
  partOneAccepted(uploadId: string): void {
    const entry = this.#uploads.get(uploadId);
    const partOne = entry?.partOne;
    if (!entry?.state || !partOne || partOne.accepted) return;
    partOne.accepted = true;
    partOne.refused = undefined;
    const waiters = [...partOne.waiters];
    partOne.waiters.clear();
    for (const waiter of waiters) waiter.resolve(entry.state);
  }

  /**
   * Part 1 was refused: parts waiting for it, and parts that would, fail with
   * `error` until a part 1 is accepted. A refused part 1 decides nothing.
   */
  partOneRefused(uploadId: string, error: unknown): void {
    const entry = this.#uploads.get(uploadId);
    const partOne = entry?.partOne;
    if (!entry || !partOne || partOne.accepted) return;
    if (entry.pending) delete entry.state;
    partOne.refused = error;
    this.#fail(partOne.waiters, error);
  }

  #waitForPartOne(uploadId: string, waiters: Set<Waiter>, partNumber: number): Promise<UploadState> {
    return new Promise<UploadState>((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (state) => {
          clearTimeout(timer);
          resolve(state);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new EncryptedS3Error(
            S3ErrorCode.INVALID_UPLOAD,
            `part ${partNumber} of upload ${uploadId} waited ${this.#partOneWaitMs} ms for part 1, which decides ` +
              "this upload's part size: send part 1 first (lib-storage does), or set the part size with " +
              'withEncryption(input, { partSize }) at CreateMultipartUpload and mark the last part to send parts in any order',
          ),
        );
      }, this.#partOneWaitMs);
      timer.unref?.();
      waiters.add(waiter);
    });
  }

  #fail(waiters: Set<Waiter>, error: unknown): void {
    const failing = [...waiters];
    waiters.clear();
    for (const waiter of failing) waiter.reject(error);
  }

  /** The state of `uploadId`, if this process holds one (none while part 1 must set the part size). */
  find(uploadId: string): UploadState | undefined {
    return this.#uploads.get(uploadId)?.state;
  }

  /** Forgets an upload (completed or aborted); parts still waiting for its part 1 fail. */
  delete(uploadId: string): void {
    const entry = this.#uploads.get(uploadId);
    this.#uploads.delete(uploadId);
    if (entry?.partOne) {
      this.#fail(
        entry.partOne.waiters,
        new EncryptedS3Error(S3ErrorCode.INVALID_UPLOAD, `upload ${uploadId} ended before its part 1 was accepted`),
      );
    }
  }
}
