import type { BigIntStats } from 'node:fs';

/**
 * What identifies one version of a source file, the way backup tools decide
 * whether a file changed without reading it (restic's rule): its size, its
 * modification and status-change times in nanoseconds, its inode and its
 * device. Any write changes mtime and ctime; putting mtime back (`touch -d`)
 * changes ctime, which only the kernel sets; a file replaced by another has
 * another inode. Numbers are decimal strings: bigint stats do not fit JSON,
 * and inodes and nanosecond times do not fit a double.
 */
export interface SourceIdentity {
  readonly path: string;
  readonly size: string;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
  readonly ino: string;
  readonly dev: string;
}

/** The fields compared, with the words used when one differs. */
const FIELDS = [
  ['size', 'size'],
  ['mtimeNs', 'modification time'],
  ['ctimeNs', 'status-change time'],
  ['ino', 'inode'],
  ['dev', 'device'],
  ['path', 'path'],
] as const;

/** The identity of `path` from its `stat(path, { bigint: true })`. */
export function sourceIdentity(path: string, stats: BigIntStats): SourceIdentity {
  return {
    path,
    size: String(stats.size),
    mtimeNs: String(stats.mtimeNs),
    ctimeNs: String(stats.ctimeNs),
    ino: String(stats.ino),
    dev: String(stats.dev),
  };
}

/** Whether `value` has the shape of a {@link SourceIdentity} (a journal is read from disk). */
export function isSourceIdentity(value: unknown): value is SourceIdentity {
  const v = value as Record<string, unknown> | null;
  return typeof v === 'object' && v !== null && FIELDS.every(([field]) => typeof v[field] === 'string');
}

/** Which property of the source differs between two identities (for the message), or undefined when none does. */
export function identityChange(recorded: SourceIdentity, current: SourceIdentity): string | undefined {
  return FIELDS.find(([field]) => recorded[field] !== current[field])?.[1];
}
