import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededPieces } from '@encrypted-stream/test-support';

/**
 * The crash test's input: `size` bytes of seeded data in a file under the OS temp
 * dir, generated once and reused by later runs (with its SHA-256 beside it).
 */
export function bigFile(seed: string, size: number): { path: string; sha256: string } {
  const dir = join(tmpdir(), 'encrypted-stream-reliability');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${seed}-${size}.bin`);
  const hashPath = `${path}.sha256`;
  if (existsSync(path) && existsSync(hashPath) && statSync(path).size === size) {
    return { path, sha256: readFileSync(hashPath, 'utf8').trim() };
  }
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  const hash = createHash('sha256');
  try {
    for (const piece of seededPieces(seed, size, 0, 8 << 20)) {
      hash.update(piece);
      writeSync(fd, piece);
    }
  } finally {
    closeSync(fd);
  }
  const sha256 = hash.digest('hex');
  const hashTmp = `${hashPath}.${process.pid}.tmp`;
  writeFileSync(hashTmp, sha256);
  renameSync(tmp, path);
  renameSync(hashTmp, hashPath);
  return { path, sha256 };
}
