import { EncryptedS3Error, S3ErrorCode } from './errors';
import type { Args, CommandHandler, Next, PluginRuntime, Result } from './handler';

/** A presigned request is on its way out of a handler: see {@link presignAware}. */
class PresignedInstead {}

/** Whether a continuation's result is `getSignedUrl`'s presigned request rather than an S3 response. */
export function isPresignResult(result: Result | undefined): boolean {
  const presigned = (result?.output as { presigned?: unknown } | undefined)?.presigned;
  const response = result?.response as { statusCode?: unknown } | undefined;
  return (
    typeof presigned === 'object' &&
    presigned !== null &&
    typeof (presigned as { method?: unknown }).method === 'string' &&
    response?.statusCode === undefined
  );
}

/** Whether a command is presigned with the caller's input as given (else refused). */
function presignsAsGiven(commandName: string, input: Record<string, unknown>): boolean {
  switch (commandName) {
    case 'GetObjectCommand':
    case 'HeadObjectCommand':
    case 'AbortMultipartUploadCommand':
      return true;
    case 'CopyObjectCommand':
      return input.MetadataDirective !== 'REPLACE';
    default:
      return false;
  }
}

/** What to do instead of presigning a command of a kind. */
const INSTEAD: Readonly<Record<string, string>> = {
  PutObjectCommand: 'Use presignEncryptedPut() from @encrypted-stream/s3 to presign an encrypted upload',
  UploadPartCommand: 'Use presignEncryptedUploadPart() from @encrypted-stream/s3 to presign an encrypted part',
  CopyObjectCommand: "Send a 'REPLACE' copy with the plugged client (it carries the encryption metadata)",
};

/**
 * Runs `handler` for `commandName`, or presigns instead when the command is
 * being presigned rather than sent.
 *
 * `getSignedUrl` from `@aws-sdk/s3-request-presigner` runs the command
 * through a clone of the client's middleware stack — the plugin included —
 * and stops it just before signing: a middleware placed before the auth
 * middleware signs the request as a URL and returns it as `output.presigned`
 * with an empty response, so nothing is sent. The plugin cannot tell a
 * presign from a send beforehand (the context carries no mark), but it can
 * tell from what its continuation returns: a real S3 response never carries
 * `output.presigned`. A handler's call of `next` that returns a presigned
 * request is therefore stopped (thrown out of the handler) and the command
 * presigned again by the rules below. What the handler did before its `next`
 * stays done, and none of it writes: a PutObject's handler has made a data
 * key (a keyring call), a REPLACE copy's has read the source (HeadObject and
 * a ranged GET), a CompleteMultipartUpload's has listed the parts.
 *
 *
 * - `GetObject`, `HeadObject`: the caller's input as given. A presigned GET
 *   returns the object as stored — ciphertext, with the encryption header in
 *   its `x-amz-meta-es-*` response headers — for a reader that holds the key
 *   (see presign-download.ts); a `Range` in it is a ciphertext range.
 * - `AbortMultipartUpload`, and `CopyObject` that keeps the metadata
 *   (`MetadataDirective` other than `REPLACE`): as given, after the handler's
 *   own checks (a copy of a location-bound object elsewhere is still refused).
 * - Everything else — `PutObject`, `UploadPart`, `CreateMultipartUpload`,
 *   `CompleteMultipartUpload`, a `REPLACE` copy — is refused with
 *   `ES_UNSUPPORTED_OPERATION`. The body of a presigned upload is sent later
 *   by someone else, so the plugin cannot encrypt it, and a URL that stored
 *   plaintext (or a header for a body never encrypted with it) would defeat
 *   the point; `presignEncryptedPut` and `presignEncryptedUploadPart` presign
 *   uploads whose body the caller encrypts with a data key this package
 *   made. A `REPLACE` copy must carry the source's encryption metadata and
 *   its If-Match guard, which a presigner moves into the query string, where
 *   not every store honours them (Ceph RGW ignores a copy source there and
 *   stores an empty object): send it with the plugged client. A command
 *   marked `withEncryption(input, { raw: true })` never reaches this (it
 *   presigns as it is, e.g. a deliberately plaintext upload).
 */
export async function presignAware(
  commandName: string,
  handler: CommandHandler,
  args: Args,
  next: Next,
  runtime: PluginRuntime,
): Promise<Result> {
  const watched: Next = async (a) => {
    const result = await next(a);
    if (isPresignResult(result as Result)) throw new PresignedInstead();
    return result;
  };
  try {
    return await handler(args, watched, runtime);
  } catch (error) {
    if (!(error instanceof PresignedInstead)) throw error;
    if (presignsAsGiven(commandName, args.input)) return next(args) as Promise<Result>;
    const command = commandName.replace(/Command$/, '');
    const instead =
      INSTEAD[commandName] ??
      'Create uploads with EncryptedMultipartUpload and presign parts with presignEncryptedUploadPart()';
    throw new EncryptedS3Error(
      S3ErrorCode.UNSUPPORTED_OPERATION,
      `${command} cannot be presigned through the encryption plugin: it would store data or metadata the plugin ` +
        `cannot encrypt or guard once the URL is used elsewhere. ${instead}, or mark the input ` +
        'withEncryption(input, { raw: true }) to presign it unencrypted.',
    );
  }
}
