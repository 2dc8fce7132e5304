import type { ParseArgsConfig } from 'node:util';
import type { CommandContext } from './command-context';

/** Option definitions in node:util parseArgs form. */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Parsed option values. */
export type OptionValues = Record<string, string | boolean | undefined>;

/** One subcommand. */
export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  readonly options: OptionSpec;
  /** More lines for `COMMAND --help` (what the one-line summary cannot say). */
  readonly help?: readonly string[];
  run(context: CommandContext, args: string[], values: OptionValues): Promise<void>;
}

/** A string option's value. */
export const stringOption = (values: OptionValues, name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};
