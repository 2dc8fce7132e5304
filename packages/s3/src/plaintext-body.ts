import type { Readable } from 'node:stream';

/**
 * What a presigned upload accepts as plaintext (a Node `Readable` under Node
 * only; the type import is erased, so browsers load nothing of node:stream).
 * @public
 */
export type PlaintextBody =
  | Uint8Array
  | string
  | Blob
  | Readable
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>;
