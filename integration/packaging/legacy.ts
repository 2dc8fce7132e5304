// The installed packages' types under the old `moduleResolution: node`
// (CommonJS, no exports map): every entry, subpaths included, has types.
import { LocalKeyring } from '@encrypted-stream/codec';
import { type ChunkDecoder, planRange } from '@encrypted-stream/codec/low-level';
import { decryptingStream } from '@encrypted-stream/codec/node';
import { createGatewayHandler } from '@encrypted-stream/gateway';
import { getEncryptionPlugin } from '@encrypted-stream/s3';
import { EncryptedUpload } from '@encrypted-stream/s3/upload';
import { createMediaHandler, uploadEncrypted } from '@encrypted-stream/web';

export const used: unknown[] = [
  LocalKeyring,
  planRange,
  decryptingStream,
  createGatewayHandler,
  getEncryptionPlugin,
  EncryptedUpload,
  createMediaHandler,
  uploadEncrypted,
];
export type Decoder = ChunkDecoder;
