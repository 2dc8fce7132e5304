import { type ChecksumAlgorithm, type CompletedPart, UploadPartCommand } from '@aws-sdk/client-s3';
import { CHUNK_OVERHEAD, chunkOffset } from '@encrypted-stream/codec/low-level';
import type { PluginRuntime } from './handler';
import { withEncryption } from './markers';
import { encryptPart, type ListedPart, MAX_PARTS, type UploadState, verifyParts } from './upload-state';

const CHECKSUMS = ['ChecksumCRC32', 'ChecksumCRC32C', 'ChecksumCRC64NVME', 'ChecksumSHA1', 'ChecksumSHA256'] as const;

/**
 * The number of the part that must still carry the stream's final chunk, or
 * `undefined` when there is none to add (then `verifyParts` judges the parts
 * as they are).
 *
 * lib-storage never says which part is its last, and its last part is a full
 * one whenever the body is a multiple of the part size. Under its conventions
 * (`completeEnds`), CompleteMultipartUpload is what ends the stream: when the
 * last part it names, N, is a full part and no part after N was uploaded, the
 * stream's final chunk, an empty one at chunk N·partSize/chunkSize, goes into
 * part N+1 (40 bytes; S3 lets the last part be that small). The object is then
 * exactly what encrypting its N·partSize bytes in one go gives. (Once added,
 * the same part number is returned again, so a retried Complete re-sends it.)
 */
export function missingEnd(
  state: UploadState,
  requested: readonly { PartNumber?: number }[],
  listed: readonly ListedPart[],
): number | undefined {
  if (!state.completeEnds) return undefined;
  const last = requested.reduce((max, p) => Math.max(max, p.PartNumber ?? 0), 0);
  if (last === 0 || last >= MAX_PARTS) return undefined;
  if (state.finalPart) {
    const ours = state.finalPart.number === last + 1 && state.finalPart.length === 0;
    return ours ? last + 1 : undefined;
  }
  if (listed.some((p) => (p.PartNumber ?? 0) > last)) return undefined; // not the end: later parts exist
  const { chunkSize } = state.cipher;
  const size = listed.find((p) => p.PartNumber === last)?.Size;
  return size === chunkOffset(state.partSize / chunkSize, chunkSize) ? last + 1 : undefined;
}

/**
 * `requested` (and S3's listing) with the stream's final chunk added as one
 * more part when {@link missingEnd} says it is missing. Every other check of
 * `verifyParts` runs first, so nothing is uploaded for parts that would be
 * refused anyway.
 */
export async function withStreamEnd(
  runtime: PluginRuntime,
  state: UploadState,
  requested: readonly CompletedPart[],
  listed: readonly ListedPart[],
): Promise<{ parts: CompletedPart[]; listed: ListedPart[] }> {
  const number = missingEnd(state, requested, listed);
  if (number === undefined) return { parts: [...requested], listed: [...listed] };
  const others = listed.filter((p) => p.PartNumber !== number);
  verifyParts(state, [...requested, { PartNumber: number }], [...others, { PartNumber: number, Size: CHUNK_OVERHEAD }]);
  const part = await encryptPart(state, number, new Uint8Array(0), 0, true);
  const out = await runtime.client.send(
    new UploadPartCommand(
      withEncryption(
        {
          Bucket: state.bucket,
          Key: state.key,
          UploadId: state.uploadId,
          PartNumber: number,
          Body: part.Body as Uint8Array,
          ContentLength: part.ContentLength,
          ...(state.checksumAlgorithm ? { ChecksumAlgorithm: state.checksumAlgorithm as ChecksumAlgorithm } : {}),
        },
        { raw: true },
      ),
    ),
  );
  const added: CompletedPart = { PartNumber: number, ETag: out.ETag };
  for (const name of CHECKSUMS) if (out[name]) added[name] = out[name];
  return {
    parts: [...requested, added],
    listed: [...others, { PartNumber: number, Size: part.ContentLength }],
  };
}
