/** Reads a body to the end into one Buffer. */
export async function readAll(body: unknown): Promise<Buffer> {
  const pieces: Buffer[] = [];
  await consume(body, (piece) => {
    pieces.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
  });
  return Buffer.concat(pieces);
}

/**
 * Reads a body piece by piece; `onPiece` sees each piece as it arrives (so a
 * test knows what was delivered before an error). Rejects if the body errors.
 */
export async function consume(body: unknown, onPiece: (piece: Uint8Array) => void): Promise<number> {
  if (!body) throw new TypeError('no body');
  let total = 0;
  if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    for await (const piece of body as AsyncIterable<Uint8Array | string>) {
      const bytes = typeof piece === 'string' ? Buffer.from(piece) : piece;
      total += bytes.length;
      onPiece(bytes);
    }
    return total;
  }
  if (typeof (body as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return total;
      total += value.length;
      onPiece(value);
    }
  }
  throw new TypeError('unsupported body type');
}
