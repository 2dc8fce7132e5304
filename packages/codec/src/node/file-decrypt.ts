import { type OpenOptions, openStreamCipher } from '../crypto/stream-cipher';
import { ChunkDecoder } from '../engine/chunk-decoder';
import { CHUNK_OVERHEAD, MAX_PREFIX_SIZE } from '../format/constants';
import { encodeHeader } from '../format/header';
import { readHeader } from '../io/decrypt';
import { DEFAULT_READ_SIZE, readBlocks, readFully, wholeUnits } from './block-reader';
import type { FileCryptOptions } from './file-encrypt';
import type { FileWriter } from './file-writer';
import type { PositionalFile } from './positional-file';

/**
 * Decrypts the open self-contained encrypted file `input` to `writer`, reading
 * blocks of whole chunks ahead while the previous block's plaintext is being
 * written. Only authenticated plaintext reaches `writer`, and every failure is
 * the one `decryptStream` reports for the same bytes (the same decoder reads
 * them, header included).
 */
export async function decryptFile(
  input: Pick<PositionalFile, 'read'>,
  keys: OpenOptions,
  writer: FileWriter,
  options: FileCryptOptions = {},
): Promise<void> {
  const { onRead, readSize = DEFAULT_READ_SIZE } = options;
  const { header } = await readHeader(await readFully(input, Buffer.allocUnsafe(MAX_PREFIX_SIZE), 0));
  const cipher = await openStreamCipher(header, keys);
  const start = encodeHeader(header).length;
  onRead?.(start);
  const decoder = new ChunkDecoder(cipher, { plaintextSize: header.stream.plaintextSize });
  // Blocks of whole chunks from the body's start: after a full block the decoder
  // holds no bytes (or has thrown), so it keeps no view of a read buffer that is
  // reused; only the last, short block can leave bytes, and it is never overwritten.
  for await (const block of readBlocks(input, wholeUnits(readSize, cipher.chunkSize + CHUNK_OVERHEAD), start)) {
    onRead?.(block.length);
    await writer.write(decoder.push(block));
  }
  await writer.write(decoder.finish());
}
