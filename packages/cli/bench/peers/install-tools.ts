/**
 * The peers and the meter come from Debian's packages: `age`, `rclone`, and
 * GNU `time` (for user/system CPU and peak RSS of a whole process, which Node
 * cannot read for a child). Installed here when missing, so the bench runs on
 * a fresh machine of this project's kind.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** GNU time from Debian's `time` package (the shell builtin cannot write `-f` formats to a file). */
export const GNU_TIME = '/usr/bin/time';

/** Each command the bench runs, with the Debian package that provides it. */
const NEEDED: readonly { command: string; pkg: string }[] = [
  { command: 'age', pkg: 'age' },
  { command: 'age-keygen', pkg: 'age' },
  { command: 'rclone', pkg: 'rclone' },
  { command: GNU_TIME, pkg: 'time' },
];

function onPath(command: string): boolean {
  if (command.startsWith('/')) return existsSync(command);
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;
}

/**
 * Installs the Debian packages of every missing tool (`apt-get update`, then
 * `apt-get install`, non-interactive). Throws with the command to run by hand
 * when not root. apt's chatter goes to stderr: stdout carries the table.
 */
export function ensureTools(log: (message: string) => void): void {
  const missing = [...new Set(NEEDED.filter((n) => !onPath(n.command)).map((n) => n.pkg))];
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) throw new Error(`missing ${missing.join(', ')}; as root run: ${command}`);
  log(`installing ${missing.join(', ')} (${command}) …`);
  const options = {
    stdio: ['ignore', 2, 2] as ('ignore' | number)[],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  };
  execFileSync('apt-get', ['update'], options);
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], options);
  const still = NEEDED.filter((n) => !onPath(n.command)).map((n) => n.command);
  if (still.length > 0) throw new Error(`still missing after apt-get install: ${still.join(', ')}`);
}

/** The first line of `command args` (a version string), or '?' when it prints nothing. */
export function versionOf(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n')[0] || '?';
}
