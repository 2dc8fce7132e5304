/**
 * `put`'s resume journal as the tests see it: `upload-ID.json` beside its key
 * file `upload-ID.key` in the state directory. The MAC is computed here from
 * its description (src/journal-key.ts, SECURITY.md "Resume tokens"),
 * independently of the sources: HMAC-SHA256 under HKDF-SHA256(key file, no
 * salt, "encrypted-stream cli journal v3 mac") over the journal without
 * `mac`, as JSON with every object's keys sorted. Tests use it to play an
 * attacker who holds the key file too (and so can re-authenticate an edit).
 */
import { createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CliResult, type RunOptions, start } from './cli';

/** The journal as the CLI writes it (version 3). */
export interface Journal {
  version: number;
  endpoint: string;
  bucket: string;
  key: string;
  source: { path: string; size: string; mtimeNs: string; ctimeNs: string; ino: string; dev: string };
  partSize: number;
  chunkSize: number;
  uploadId: string;
  resumeToken: string;
  parts: number[];
  partDigests?: Record<string, string>;
  dataKey: string;
  mac: string;
}

/** Every file in a state directory (journals, key files, anything left behind). */
export function stateFiles(stateDir: string): string[] {
  try {
    return readdirSync(stateDir).sort();
  } catch {
    return [];
  }
}

/** The journals in a state directory (the CLI names them upload-HASH.json). */
export function journals(stateDir: string): { file: string; keyFile: string; journal: Journal }[] {
  return stateFiles(stateDir)
    .filter((name) => /^upload-[0-9a-f]+\.json$/.test(name))
    .flatMap((name) => {
      const file = join(stateDir, name);
      try {
        return [{ file, keyFile: file.replace(/\.json$/, '.key'), journal: JSON.parse(readFileSync(file, 'utf8')) }];
      } catch {
        return []; // replaced while reading
      }
    });
}

/** The only journal in `stateDir`. */
export function theJournal(stateDir: string): { file: string; keyFile: string; journal: Journal } {
  const found = journals(stateDir);
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** The most parts any journal in `stateDir` records. */
export const recordedParts = (stateDir: string): number =>
  Math.max(0, ...journals(stateDir).map((j) => j.journal.parts.length));

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The MAC a journal's key file gives `journal` (its `mac` field left out). */
export function journalMac(keyFile: string, journal: object): string {
  const { mac: _mac, ...fields } = journal as Journal;
  const macKey = Buffer.from(
    hkdfSync('sha256', readFileSync(keyFile), new Uint8Array(0), 'encrypted-stream cli journal v3 mac', 32),
  );
  return createHmac('sha256', macKey).update(canonical(fields)).digest('base64url');
}

/** Rewrites the journal in `stateDir` as an editor would: its MAC left as it was (so it no longer holds). */
export function tamperJournal(stateDir: string, change: (journal: Journal) => object): void {
  const { file, journal } = theJournal(stateDir);
  writeFileSync(file, JSON.stringify(change(structuredClone(journal))), { mode: 0o600 });
}

/** Rewrites the journal in `stateDir` with a valid MAC, as someone holding its key file could. */
export function editJournal(stateDir: string, change: (journal: Journal) => object): void {
  const { file, keyFile, journal } = theJournal(stateDir);
  const changed = change(structuredClone(journal));
  writeFileSync(file, JSON.stringify({ ...changed, mac: journalMac(keyFile, changed) }), { mode: 0o600 });
}

/**
 * Starts `args`, waits until the journal in `stateDir` records `parts` parts
 * S3 acknowledged, then sends `signal`. Fails if the upload finished first.
 */
export async function interruptAfterParts(
  args: string[],
  stateDir: string,
  parts: number,
  signal: NodeJS.Signals,
  options: RunOptions = {},
): Promise<CliResult> {
  const running = start(args, options);
  let finished: CliResult | undefined;
  void running.done.then((result) => {
    finished = result;
  });
  const deadline = Date.now() + 60_000;
  while (!finished && recordedParts(stateDir) < parts) {
    if (Date.now() > deadline) throw new Error(`no ${parts} parts recorded in ${stateDir} within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (finished) {
    throw new Error(`the upload ended before it could be interrupted: exit ${finished.code}\n${finished.stderr}`);
  }
  running.child.kill(signal);
  return running.done;
}

/**
 * The data key a journal keeps, opened with its key file as its description
 * says (src/journal-key.ts): AES-256-GCM under HKDF-SHA256(key file, no salt,
 * "encrypted-stream cli journal v3 data key"), `nonce ‖ ciphertext ‖ tag`,
 * bound to the journal's destination, source path and upload id.
 */
export function openSealedDataKey(keyFile: string, journal: Journal): Buffer {
  const key = Buffer.from(
    hkdfSync('sha256', readFileSync(keyFile), new Uint8Array(0), 'encrypted-stream cli journal v3 data key', 32),
  );
  const sealed = Buffer.from(journal.dataKey, 'base64url');
  const binding = canonical([
    'encrypted-stream cli journal v3',
    journal.endpoint,
    journal.bucket,
    journal.key,
    journal.source.path,
    journal.uploadId,
  ]);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAAD(Buffer.from(binding));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
}
