import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary directory for one test file, removed in afterAll. Read `.path` inside tests. */
export function useTempDir(label: string): { readonly path: string } {
  const state = { path: '' };
  beforeAll(() => {
    state.path = mkdtempSync(join(tmpdir(), `es-cli-${label}-`));
  });
  afterAll(() => {
    if (state.path) rmSync(state.path, { recursive: true, force: true });
  });
  return state;
}

/** A new empty directory `name` inside `parent` (tests running concurrently each get their own). */
export function freshDir(parent: string, name: string): string {
  const path = join(parent, name);
  mkdirSync(path);
  return path;
}

/** Random bytes (incompressible, so a wrong byte anywhere shows). */
export const randomData = (size: number): Buffer => randomBytes(size);

/** SHA-256 hex. */
export const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Every name in a directory, hidden ones included. */
export const listDir = (dir: string): string[] => readdirSync(dir).sort();

/** A copy of `data` with one byte changed at `offset`. */
export function flipByte(data: Uint8Array, offset: number): Buffer {
  const copy = Buffer.from(data);
  copy[offset] = (copy[offset] as number) ^ 0x01;
  return copy;
}

/** FORMAT.md §8: detached body size for `plaintext` bytes in `chunk`-byte chunks. */
export function ciphertextSize(plaintext: number, chunk = 65536): number {
  return Math.floor(plaintext / chunk) * (chunk + 40) + (plaintext % chunk) + 40;
}

/** FORMAT.md §8: self-contained (file) size with a local-keyring key block. */
export function selfContainedSize(plaintext: number, keyId: string, chunk = 65536): number {
  return 96 + 1 + Buffer.byteLength(keyId) + 2 + 72 + ciphertextSize(plaintext, chunk);
}
