/**
 * What the block pipelines need of an open file: positioned reads and writes
 * and syncs (a `FileHandle` is one; tests may pass something smaller).
 */
export interface PositionalFile {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  writev(buffers: Uint8Array[], position: number): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  sync(): Promise<void>;
}
