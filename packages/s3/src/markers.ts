/**
 * Per-command encryption options, carried on the command input under a
 * symbol so they survive the SDK's (and lib-storage's) object spreads while
 * staying invisible to the serializer.
 */
export const ENCRYPTION_OPTIONS = Symbol.for('encrypted-stream.s3.command-options');

/**
 * Options a single command can carry.
 * @public
 */
export interface CommandEncryptionOptions {
  /** UploadPart: this is the upload's final part (like the AWS S3 Encryption Client's isLastPart). */
  readonly isLastPart?: boolean;
  /** CreateMultipartUpload: plaintext bytes per part for this upload. */
  readonly partSize?: number;
  /**
   * CreateMultipartUpload: the object's plaintext size, when known: recorded
   * and authenticated in the header (then parts must fit it exactly).
   */
  readonly plaintextSize?: number;
  /** Pass the command through untouched (body already encrypted, or a plugin-internal request). */
  readonly raw?: boolean;
}

type Marked<T> = T & { [ENCRYPTION_OPTIONS]?: CommandEncryptionOptions };

/**
 * Attaches encryption options to a command input.
 * @example
 * ```ts
 * await client.send(new UploadPartCommand(withEncryption({ Bucket, Key, UploadId, PartNumber, Body }, { isLastPart: true })));
 * ```
 * @public
 */
export function withEncryption<T extends object>(input: T, options: CommandEncryptionOptions): T {
  const current = (input as Marked<T>)[ENCRYPTION_OPTIONS];
  return { ...input, [ENCRYPTION_OPTIONS]: { ...current, ...options } };
}

/** Shorthand for `withEncryption(input, { isLastPart: true })`. @public */
export function lastPart<T extends object>(input: T): T {
  return withEncryption(input, { isLastPart: true });
}

/** The encryption options a command input carries. */
export function commandOptions(input: unknown): CommandEncryptionOptions {
  return (input as Marked<object> | undefined)?.[ENCRYPTION_OPTIONS] ?? {};
}
