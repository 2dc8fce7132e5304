import { concatBytes, utf8 } from '../format/bytes';
/**
 * Anything the streaming APIs read bytes from.
 * @public
 */
export type ByteSource =
  | Uint8Array
  | ArrayBuffer
  | Blob
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array>;

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return value != null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

async function* fromReadableStream(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

function toBytes(piece: unknown): Uint8Array {
  if (piece instanceof Uint8Array) return piece;
  if (typeof piece === 'string') return utf8(piece);
  if (piece instanceof ArrayBuffer) return new Uint8Array(piece);
  throw new TypeError('stream yielded something other than bytes');
}

/**
 * Normalises a Node Readable, web ReadableStream, Blob, (async) iterable or
 * buffer into an async iterable of byte pieces. Pulls lazily: memory stays
 * bounded by what the consumer holds.
 * @public
 */
export async function* toByteIterable(source: ByteSource): AsyncGenerator<Uint8Array> {
  // A string is iterable, but it is not bytes (e.g. a file path passed by mistake).
  if (typeof source === 'string') throw new TypeError('source must be bytes, not a string');
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  if (source instanceof ArrayBuffer) {
    yield new Uint8Array(source);
    return;
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    yield* fromReadableStream(source.stream() as ReadableStream<Uint8Array>);
    return;
  }
  if (isAsyncIterable(source)) {
    for await (const piece of source) yield toBytes(piece);
    return;
  }
  if (source && typeof (source as ReadableStream).getReader === 'function') {
    yield* fromReadableStream(source as ReadableStream<Uint8Array>);
    return;
  }
  if (source && typeof (source as Iterable<Uint8Array>)[Symbol.iterator] === 'function') {
    for (const piece of source as Iterable<Uint8Array>) yield toBytes(piece);
    return;
  }
  throw new TypeError('source must be bytes, a Blob, a Readable, a ReadableStream or an (async) iterable of bytes');
}

/** Collects an async iterable of pieces into one array. @public */
export async function collectBytes(pieces: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of pieces) parts.push(p);
  return concatBytes(parts);
}
