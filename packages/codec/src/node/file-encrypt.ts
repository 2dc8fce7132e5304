import type { StreamCipher } from '../crypto/stream-cipher';
import { BodyEncoder } from '../engine/body-encoder';
import { encodeHeader } from '../format/header';
import { DEFAULT_READ_SIZE, readBlocks, wholeUnits } from './block-reader';
import type { FileWriter } from './file-writer';
import type { PositionalFile } from './positional-file';

/** Options of {@link encryptFile} and `decryptFile`. */
export interface FileCryptOptions {
  /** Called with the input bytes of each block read (progress). */
  readonly onRead?: (bytes: number) => void;
  /** Input bytes per read (default 4 MiB), rounded to whole chunks. */
  readonly readSize?: number;
}

/**
 * Encrypts the open regular file `input` in the self-contained framing
 * (header, then chunks) to `writer`, reading blocks of whole chunks ahead
 * while the previous block's chunks are being written. The same bytes as
 * `encryptStream` with the same cipher and nonces, and the same errors: the
 * file must hold exactly the plaintext size recorded in the header.
 */
export async function encryptFile(
  cipher: StreamCipher,
  input: Pick<PositionalFile, 'read'>,
  writer: FileWriter,
  options: FileCryptOptions = {},
): Promise<void> {
  const { onRead, readSize = DEFAULT_READ_SIZE } = options;
  if (cipher.header.stream.plaintextSize === undefined)
    throw new TypeError('encryptFile needs a cipher that records the plaintext size');
  const encoder = new BodyEncoder(cipher); // checks the file against the size recorded
  await writer.write([encodeHeader(cipher.header)]);
  // Every block but the last is whole chunks, so the encoder keeps no view of a
  // read buffer that is reused (and the last one is never overwritten).
  for await (const block of readBlocks(input, wholeUnits(readSize, cipher.chunkSize))) {
    onRead?.(block.length);
    await writer.write(encoder.push(block));
  }
  await writer.write(encoder.finish());
}
