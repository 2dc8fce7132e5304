import { AbortMultipartUploadCommand, type S3Client } from '@aws-sdk/client-s3';
import { EncryptedMultipartUpload, S3ErrorCode } from '@encrypted-stream/s3';
import { CliError, ExitCode, usageError } from './exit-codes';
import { HeldDataKey, type JournalKey } from './journal-key';
import { S3_LIMITS } from './part-size';
import { sizeArgument } from './sizes';
import { identityChange, type SourceIdentity } from './source-identity';
import { type JournalRead, type JournalTarget, readJournal, removeJournal } from './upload-journal';

/** What {@link resumeUpload} needs to know about the command. */
export interface ResumeRequest {
  readonly client: S3Client;
  /**
   * The key id this run would wrap a new upload's data key under (its
   * writing keyring's): a resume must be of an upload wrapped under the same.
   */
  readonly keyId: string;
  /** The command's endpoint, bucket, key and absolute source path. */
  readonly target: JournalTarget;
  readonly journalFile: string;
  /** The source as it is now. */
  readonly source: SourceIdentity;
  /** The source as the user named it (for messages). */
  readonly displayPath: string;
  /** `--restart`: abandon any interrupted upload and start over. */
  readonly restart: boolean;
  /** `--verify-source`: the parts already uploaded must be checked against their digests. */
  readonly verifySource: boolean;
  /** The part and chunk size this run would upload with (given or chosen): a resume must use the same. */
  readonly layout: UploadLayout;
  readonly debug: (message: string) => void;
}

/** How an upload cuts its plaintext: what a resume must not change. */
export interface UploadLayout {
  readonly partSize: number;
  readonly chunkSize: number;
}

/** An interrupted upload, resumed. */
export interface Resumed {
  readonly upload: EncryptedMultipartUpload;
  /** Parts that S3 holds and the journal recorded, with their digest when the journal keeps digests. */
  readonly parts: ReadonlyMap<number, string | undefined>;
  /** Whether the journal keeps part digests (`--verify-source` when the upload started): it goes on keeping them. */
  readonly digests: boolean;
  /** The journal's key, which goes on authenticating it. */
  readonly journalKey: JournalKey;
  /** The upload's data key as the journal keeps it, sealed. */
  readonly sealedDataKey: string;
}

const isInvalidToken = (error: unknown) => (error as { code?: string }).code === S3ErrorCode.INVALID_RESUME_TOKEN;

/**
 * Resumes the interrupted upload the journal describes, after checking that
 * it is one to resume: a journal that authenticates under its key file, same
 * destination, same source (size, times, inode, device), the same part and
 * chunk size and the same wrapping key as this run asks for, a resume token
 * that authenticates under the journal's data key and names this destination.
 * Nothing is unwrapped: the data key is the journal's, checked against the
 * header's key commitment, so a host that can only wrap resumes too.
 * Returns undefined when there is nothing to resume (no journal, `--restart`,
 * or the upload no longer exists on S3). Throws a {@link CliError} when the
 * journal must not be trusted: exit 6 for a changed source or an outdated
 * journal, exit 4 for an altered or misdirected one; never uploads to any
 * destination but the command's.
 */
export async function resumeUpload(request: ResumeRequest): Promise<Resumed | undefined> {
  const { target, journalFile, displayPath } = request;
  const destination = `s3://${target.bucket}/${target.key}`;
  const found = await readJournal(journalFile, target);
  if (found.state === 'none') return undefined;
  if (request.restart) {
    await abandon(request, found);
    return undefined;
  }
  if (found.state === 'outdated') {
    throw new CliError(
      ExitCode.SOURCE_CHANGED,
      `the interrupted upload of ${displayPath} to ${destination} was recorded by an older encrypted-stream, whose journal resume no longer trusts; not resuming it (use --restart to start over)`,
    );
  }
  if (found.state === 'invalid') throw invalidJournal(request, found.reason);
  const { journal, journalKey, dataKey } = found;
  const change = identityChange(journal.source, request.source);
  if (change) {
    throw new CliError(
      ExitCode.SOURCE_CHANGED,
      `${displayPath} changed since the interrupted upload to ${destination} (its ${change} differs); not mixing old and new parts (use --restart to start over)`,
    );
  }
  refuseOtherLayout(request, { partSize: journal.partSize, chunkSize: journal.chunkSize });
  refuseOtherKey(request, journal.resumeToken);
  const digests = journal.partDigests !== undefined;
  if (request.verifySource && !digests) {
    throw new CliError(
      ExitCode.SOURCE_CHANGED,
      `the interrupted upload of ${displayPath} to ${destination} was started without --verify-source, so its parts cannot be checked; run without --verify-source to resume it, or with --restart to start over`,
    );
  }
  let upload: EncryptedMultipartUpload;
  try {
    // bucket/key: the token must name this destination (and its MAC must hold), else ES_INVALID_RESUME_TOKEN.
    upload = await EncryptedMultipartUpload.resume(request.client, journal.resumeToken, {
      keyring: new HeldDataKey(dataKey),
      bucket: target.bucket,
      key: target.key,
    });
  } catch (error) {
    if (isInvalidToken(error))
      throw invalidJournal(request, 'its resume token does not authenticate for this destination');
    throw error;
  } finally {
    dataKey.fill(0);
  }
  // The token is authentic; the journal's own fields are not, so they must agree with it.
  if (upload.uploadId !== journal.uploadId || upload.partSize !== journal.partSize) {
    throw invalidJournal(request, 'it disagrees with its resume token');
  }
  if (upload.plaintextSize !== Number(request.source.size)) {
    throw invalidJournal(request, 'its resume token records another plaintext size');
  }
  let listed: Awaited<ReturnType<EncryptedMultipartUpload['listParts']>>;
  try {
    listed = await upload.listParts();
  } catch (error) {
    if ((error as { name?: string }).name !== 'NoSuchUpload') throw error;
    request.debug('the interrupted upload no longer exists; starting over');
    return undefined;
  }
  const recorded = new Set(journal.parts);
  const parts = new Map<number, string | undefined>();
  for (const { PartNumber } of listed) {
    if (PartNumber === undefined || !recorded.has(PartNumber)) continue; // stored, but never acknowledged to us
    const digest = journal.partDigests?.[String(PartNumber)];
    if (digests && digest === undefined) continue; // no digest to check it by: upload it again
    parts.set(PartNumber, digest);
  }
  request.debug(`resuming upload ${upload.uploadId}: ${parts.size} parts already stored`);
  return { upload, parts, digests, journalKey, sealedDataKey: journal.dataKey };
}

/**
 * Exit 2 when this run would wrap under another key than the interrupted
 * upload did (another recipient, KMS key or local primary key): resuming would
 * give the object the old key block, not the one asked for. The token's key
 * id is read after the journal's MAC held, before any request.
 */
function refuseOtherKey(request: ResumeRequest, resumeToken: string): void {
  let keyId: unknown;
  try {
    keyId = JSON.parse(Buffer.from(resumeToken, 'base64url').toString('utf8'))?.h?.k;
  } catch {
    keyId = undefined; // the resume below says what is wrong with the token
  }
  if (typeof keyId !== 'string' || keyId === request.keyId) return;
  const { target, displayPath } = request;
  throw usageError(
    `the interrupted upload of ${displayPath} to s3://${target.bucket}/${target.key} wraps its data key under "${keyId}", not "${request.keyId}" (the keyring given): give the keyring it was started with to resume, or add --restart to start over under the new one`,
  );
}

/**
 * Exit 2 when this run asks for another part or chunk size than the
 * interrupted upload used: its parts were cut (and encrypted) at the old
 * sizes, so continuing would either mix layouts or silently ignore the new
 * options. Checked before any request; the message says both ways forward.
 */
function refuseOtherLayout(request: ResumeRequest, recorded: UploadLayout): void {
  const options = (layout: UploadLayout, names: readonly (keyof UploadLayout)[]) =>
    names.map((name) => `--${name === 'partSize' ? 'part' : 'chunk'}-size ${sizeArgument(layout[name])}`).join(' ');
  const differ = (['partSize', 'chunkSize'] as const).filter((name) => recorded[name] !== request.layout[name]);
  if (differ.length === 0) return;
  const { target, displayPath } = request;
  const used = `the interrupted upload of ${displayPath} to s3://${target.bucket}/${target.key} used ${options(recorded, differ)}`;
  // Recorded by a version that did not check S3's limits (e.g. 1 MiB parts): it can never complete.
  if (recorded.partSize < S3_LIMITS.minPart) {
    throw usageError(`${used}, below S3's 5 MiB minimum part, so it cannot complete: add --restart to start over`);
  }
  throw usageError(
    `${used}, not ${options(request.layout, differ)}: run it with ${options(recorded, differ)} to resume, or add --restart to start over with the new options`,
  );
}

/**
 * Re-checks the parts already stored against their digests (`--verify-source`):
 * reads each again and compares `upload.partDigest`. Catches a source changed
 * in a way its identity does not show (timestamps a filesystem does not keep,
 * a clock set back).
 */
export async function checkStoredParts(
  resumed: Resumed,
  readPart: (partNumber: number) => Promise<Uint8Array>,
  displayPath: string,
): Promise<void> {
  if (!resumed.digests) return;
  for (const [partNumber, digest] of resumed.parts) {
    if ((await resumed.upload.partDigest(partNumber, await readPart(partNumber))) !== digest) {
      throw new CliError(
        ExitCode.SOURCE_CHANGED,
        `part ${partNumber} of ${displayPath} differs from what was uploaded; not mixing (use --restart to start over)`,
      );
    }
  }
}

/** Exit 4: the journal was altered (or copied from another upload); nothing is uploaded. */
function invalidJournal(request: ResumeRequest, reason: string): CliError {
  return new CliError(
    ExitCode.INTEGRITY,
    `the resume journal ${request.journalFile} for s3://${request.target.bucket}/${request.target.key} is not valid: ${reason}; nothing was uploaded (use --restart to start over)`,
  );
}

/**
 * `--restart`: aborts the interrupted upload by its id at the command's own
 * bucket and key (never anywhere a journal names), then forgets it. An
 * altered journal's id is not used; an upload that cannot be aborted is
 * left to the bucket's lifecycle rule.
 */
async function abandon(request: ResumeRequest, found: Exclude<JournalRead, { state: 'none' }>): Promise<void> {
  const uploadId =
    found.state === 'found' ? found.journal.uploadId : found.state === 'outdated' ? found.uploadId : undefined;
  if (uploadId !== undefined) {
    const { bucket, key } = request.target;
    try {
      await request.client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    } catch (error) {
      request.debug(`the interrupted upload ${uploadId} could not be aborted: ${(error as Error).message}`);
    }
  }
  await removeJournal(request.journalFile);
}
