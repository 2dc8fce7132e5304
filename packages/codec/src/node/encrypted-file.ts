import { open } from 'node:fs/promises';
import { type OpenOptions, openStreamCipher, type StreamCipher } from '../crypto/stream-cipher';
import { MAX_PREFIX_SIZE } from '../format/constants';
import { encodeHeader } from '../format/header';
import { readHeader } from '../io/decrypt';
import { decryptRange, verifiedPlaintextSize } from '../io/random-access';

/**
 * A self-contained encrypted file opened for random access.
 * @public
 */
export interface EncryptedFile {
  /** The stream's cipher and header. */
  readonly cipher: StreamCipher;
  /** Plaintext size, verified against the file size (and the header if recorded). */
  readonly plaintextSize: number;
  /** Authenticated plaintext bytes `[start, end)`, reading only the chunks that hold them. */
  read(start: number, end: number): AsyncGenerator<Uint8Array>;
  /** Closes the file. */
  close(): Promise<void>;
}

/**
 * Opens a self-contained encrypted file for ranged reads.
 * @public
 */
export async function openEncryptedFile(path: string, options: OpenOptions): Promise<EncryptedFile> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const readAt = async (start: number, end: number) => {
      const buffer = Buffer.allocUnsafe(end - start);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
      return buffer.subarray(0, bytesRead);
    };
    const { header } = await readHeader(await readAt(0, Math.min(size, MAX_PREFIX_SIZE)));
    const cipher = await openStreamCipher(header, options);
    const prefix = encodeHeader(header).length;
    const bodySize = size - prefix;
    const plaintextSize = verifiedPlaintextSize(cipher, bodySize);
    return {
      cipher,
      plaintextSize,
      read: (start, end) => decryptRange(cipher, (s, e) => readAt(prefix + s, prefix + e), bodySize, start, end),
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
