import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { type FileHandle, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileWriter, type FileWriterOptions } from './file-writer';
import type { PositionalFile } from './positional-file';

/**
 * Runs `body` against a {@link FileWriter} on a hidden temporary file beside
 * `path`; once `body` resolved, waits for every write, fsyncs and renames the
 * file into place. So the output appears under its name only complete and
 * durable — for decryption, only once every byte authenticated, since the
 * decoders release only authenticated chunks and throw on truncation. On any
 * failure, and on SIGINT/SIGTERM/SIGHUP, the temporary file is removed and
 * nothing appears under `path`.
 */
export async function writeAtomically<T>(
  path: string,
  body: (writer: FileWriter) => Promise<T>,
  options?: FileWriterOptions,
): Promise<T> {
  if (await isSpecialFile(path)) return writeSpecial(path, body, options);
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`);
  removeOnSignal(temp); // before the open: the file exists as soon as the syscall ran, before the await returns
  let handle: FileHandle;
  try {
    handle = await open(temp, 'wx', 0o600);
  } catch (error) {
    keepOnSignal(temp);
    throw error;
  }
  const writer = new FileWriter(handle, 0, options);
  try {
    const result = await body(writer);
    await writer.finish();
    await handle.close();
    await rename(temp, path);
    return result;
  } catch (error) {
    await writer.settle(); // no write may land after the unlink
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw error;
  } finally {
    keepOnSignal(temp);
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** Temporary files to remove if the process is told to stop (Ctrl-C) while they are being written. */
const temporaries = new Set<string>();

function onStopSignal(signal: NodeJS.Signals): void {
  for (const temp of temporaries) {
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
  }
  for (const s of SIGNALS) process.off(s, onStopSignal);
  process.kill(process.pid, signal); // now with the default action: the usual exit status (128 + n)
}

function removeOnSignal(temp: string): void {
  if (temporaries.size === 0) for (const s of SIGNALS) process.on(s, onStopSignal);
  temporaries.add(temp);
}

function keepOnSignal(temp: string): void {
  temporaries.delete(temp);
  if (temporaries.size === 0) for (const s of SIGNALS) process.off(s, onStopSignal);
}

/** Whether `path` is an existing device, pipe or socket (`-o /dev/null`, `-o >(cmd)`): nothing to rename over. */
async function isSpecialFile(path: string): Promise<boolean> {
  try {
    return !(await stat(path)).isFile();
  } catch {
    return false; // absent (or unreadable: the open will say why)
  }
}

/**
 * Writes straight into a device or pipe, in order (one write at a time, at
 * its current position: pipes cannot seek); such a target can be neither
 * renamed over nor synced.
 */
async function writeSpecial<T>(
  path: string,
  body: (writer: FileWriter) => Promise<T>,
  options?: FileWriterOptions,
): Promise<T> {
  const handle = await open(path, 'w');
  const sequential: PositionalFile = {
    read: () => Promise.reject(new Error('write-only')),
    writev: (buffers) => handle.writev(buffers),
    datasync: async () => {},
    sync: async () => {},
  };
  const writer = new FileWriter(sequential, 0, { ...options, maxInFlight: 1, syncEvery: 0 });
  try {
    const result = await body(writer);
    await writer.finish();
    return result;
  } finally {
    await writer.settle();
    await handle.close().catch(() => {});
  }
}
