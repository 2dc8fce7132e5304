import { EncryptedS3Error, S3ErrorCode } from './errors';
import type { UploadState } from './upload-state';

/**
 * The multipart uploads this process is encrypting, by UploadId. Only wrapped
 * keys leave it (as resume tokens); a crashed process's uploads are resumed
 * from their tokens.
 */
export class UploadRegistry {
  readonly #uploads = new Map<string, UploadState>();

  add(state: UploadState): void {
    this.#uploads.set(state.uploadId, state);
  }

  /** The state of `uploadId`, checked against the bucket and key the command names. */
  get(uploadId: string, bucket: string, key: string): UploadState {
    const state = this.#uploads.get(uploadId);
    if (!state || state.bucket !== bucket || state.key !== key) {
      throw new EncryptedS3Error(
        S3ErrorCode.UNKNOWN_UPLOAD,
        `no encryption state for upload ${uploadId} of s3://${bucket}/${key}: resume it from its token first`,
      );
    }
    return state;
  }

  /** The state of `uploadId`, if this process holds one. */
  find(uploadId: string): UploadState | undefined {
    return this.#uploads.get(uploadId);
  }

  delete(uploadId: string): void {
    this.#uploads.delete(uploadId);
  }
}
