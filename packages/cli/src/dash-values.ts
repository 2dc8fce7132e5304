import type { OptionSpec } from './command';

/**
 * node:util parseArgs refuses `--range -5` (a value starting with a dash is
 * "ambiguous" to it) and wants `--range=-5`. Like aws-cli and rclone, take the
 * token after a string option as its value even when it starts with a dash,
 * unless it is one of the command's own options (`--range -q` stays an error):
 * the pair becomes `--range=-5`. Tokens after `--` are left alone.
 */
export function joinDashValues(args: readonly string[], spec: OptionSpec): string[] {
  const shortToLong = new Map(Object.entries(spec).flatMap(([name, o]) => (o.short ? [[o.short, name] as const] : [])));
  const takesValue = (arg: string): string | undefined => {
    const name = arg.startsWith('--') ? arg.slice(2) : arg.length === 2 ? shortToLong.get(arg.slice(1)) : undefined;
    return name !== undefined && spec[name]?.type === 'string' ? name : undefined;
  };
  // `-qv` and `-k` are options; `-5` and `-5MiB` are not.
  const isOption = (arg: string) => arg.length > 1 && [...arg.slice(1)].every((c) => shortToLong.has(c));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') return [...out, ...args.slice(i)];
    const name = takesValue(arg);
    const next = args[i + 1];
    if (name !== undefined && next !== undefined && /^-[^-]/.test(next) && !isOption(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}
