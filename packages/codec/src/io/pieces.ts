import { type ByteSource, toByteIterable } from './sources';

/**
 * Whether `toByteIterable(source)` would just iterate `source` itself (an
 * async iterable such as a Node Readable or an async generator). The streaming
 * APIs then iterate it directly, passing each piece through {@link asPiece}:
 * one async-generator level less per piece (each level costs a few promise
 * jobs, ~1% of the throughput at 64 KiB pieces).
 */
export function iteratesItself(source: ByteSource): source is AsyncIterable<Uint8Array | string> {
  return (
    !(source instanceof Uint8Array) &&
    !(source instanceof ArrayBuffer) &&
    !(typeof Blob !== 'undefined' && source instanceof Blob) &&
    typeof (source as Partial<AsyncIterable<unknown>>)?.[Symbol.asyncIterator] === 'function'
  );
}

/**
 * A piece as toByteIterable() yields it: Uint8Arrays as they are, anything else
 * (strings, ...) converted, or rejected with its TypeError, by toByteIterable itself.
 */
export function asPiece(value: unknown): Uint8Array | Promise<Uint8Array> {
  return value instanceof Uint8Array ? value : convertPiece(value);
}

async function convertPiece(value: unknown): Promise<Uint8Array> {
  let out: Uint8Array | undefined;
  for await (const piece of toByteIterable([value as Uint8Array])) out = piece;
  return out as Uint8Array;
}
