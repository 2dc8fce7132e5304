import type { ParseArgsConfig } from 'node:util';
import type { CommandContext } from './command-context';

/** One option: its node:util parseArgs form, plus what `--help` says about it. */
export interface OptionHelp {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** Parsed as `multiple` only to refuse a repeat (not "repeatable" in help). */
  readonly once?: boolean;
  /** The value's placeholder in help, e.g. `SIZE` (string options). */
  readonly value?: string;
  /** One sentence for `--help`. */
  readonly description: string;
}

/** A command's options by long name. */
export type OptionSpec = Readonly<Record<string, OptionHelp>>;

/** Parsed option values. */
export type OptionValues = Record<string, string | boolean | undefined>;

/** One subcommand. */
export interface Command {
  readonly name: string;
  /** The synopsis after `encrypted-stream`, e.g. `put FILE|- s3://BUCKET/KEY [options]`. */
  readonly usage: string;
  readonly summary: string;
  readonly options: OptionSpec;
  /** Whether it takes the keyring options (keyring-options.ts) besides its own: it wraps or unwraps data keys. */
  readonly keyrings?: boolean;
  /** More lines for `COMMAND --help` (what the one-line summary cannot say). */
  readonly help?: readonly string[];
  /** Whole command lines shown under "examples" in `COMMAND --help`. */
  readonly examples?: readonly string[];
  run(context: CommandContext, args: string[], values: OptionValues): Promise<void>;
}

/** `spec` in the form node:util parseArgs takes (help fields dropped). */
export function parseArgsOptions(spec: OptionSpec): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    Object.entries(spec).map(([name, { type, short, multiple }]) => [
      name,
      { type, ...(short ? { short } : {}), ...(multiple ? { multiple } : {}) },
    ]),
  );
}

/** A string option's value. */
export const stringOption = (values: OptionValues, name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};
