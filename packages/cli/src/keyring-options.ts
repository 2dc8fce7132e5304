import type { OptionSpec, OptionValues } from './command';
import { KEYRING_ENV } from './keyring-file';

/**
 * The keyring options of every command that wraps or unwraps data keys (put,
 * encrypt, get, decrypt, head, ls, verify, rotate, serve), besides the global
 * `--keyring`. They name up to three keyrings, one of each type: the local
 * keyring file, the X25519 recipient keyring (a recipient and/or identity
 * files) and the AWS KMS keyring (key ARNs and/or discovery accounts).
 */
export const KEYRING_OPTIONS: OptionSpec = {
  recipient: {
    type: 'string',
    multiple: true,
    once: true,
    value: 'RECIPIENT',
    description:
      'wrap new data keys to this X25519 public key (es-pub1…); a host holding only it writes what it cannot read',
  },
  'recipients-file': {
    type: 'string',
    value: 'FILE',
    description: 'a file holding the recipient (one es-pub1… line; # comments), in place of --recipient',
  },
  identity: {
    type: 'string',
    multiple: true,
    value: 'FILE',
    description:
      'identity file (X25519 private keys, mode 0600, from keygen --identity): unwraps; wraps only without --recipient',
  },
  'kms-key-id': {
    type: 'string',
    multiple: true,
    value: 'ARN',
    description: 'AWS KMS key ARN (no alias): the first wraps new data keys, every one unwraps',
  },
  'kms-discovery-account': {
    type: 'string',
    multiple: true,
    value: 'ID',
    description: 'also unwrap with any KMS key of this 12-digit account ([PARTITION:]ID, partition aws by default)',
  },
  'kms-endpoint': {
    type: 'string',
    value: 'URL',
    description: "KMS endpoint (default: AWS's, in each key's region, which is its ARN's), e.g. LocalStack",
  },
  'kms-profile': {
    type: 'string',
    value: 'NAME',
    description: 'profile of ~/.aws/config and ~/.aws/credentials for KMS (default: --profile, else the SDK chain)',
  },
};

/** The lines every keyring-using command's --help shows under its keyring options. */
export const KEYRING_HELP: readonly string[] = [
  'Keyrings: --keyring (a local keyring file), --recipient/--identity (X25519 public/private keys) and',
  '--kms-key-id/--kms-discovery-account (AWS KMS). Writing uses exactly one of the three; reading uses',
  "every one given, each object's key id naming which (no trial decryption).",
  `$${KEYRING_ENV} is used only when no keyring option is given. A recipient cannot`,
  'unwrap: reading with it alone fails (exit 3). KMS is called in the region of each key ARN.',
];

/** The keyring options as parsed (flags only; the environment variable is looked at when loading). */
export interface KeyringOptions {
  /** `--keyring FILE` (global), without the environment fallback. */
  readonly keyring: string | undefined;
  readonly recipients: readonly string[];
  readonly recipientsFile: string | undefined;
  readonly identities: readonly string[];
  readonly kmsKeyIds: readonly string[];
  readonly kmsDiscoveryAccounts: readonly string[];
  readonly kmsEndpoint: string | undefined;
  readonly kmsProfile: string | undefined;
  /** `--profile` (global): the KMS client's too, unless --kms-profile. */
  readonly profile: string | undefined;
}

const list = (values: OptionValues, name: string): string[] => {
  const value = (values as Record<string, unknown>)[name];
  return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
};
const one = (values: OptionValues, name: string): string | undefined => {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
};

/** The keyring options of parsed command-line values (absent ones empty). */
export function keyringOptionsOf(values: OptionValues): KeyringOptions {
  return {
    keyring: one(values, 'keyring'),
    recipients: list(values, 'recipient'),
    recipientsFile: one(values, 'recipients-file'),
    identities: list(values, 'identity'),
    kmsKeyIds: list(values, 'kms-key-id'),
    kmsDiscoveryAccounts: list(values, 'kms-discovery-account'),
    kmsEndpoint: one(values, 'kms-endpoint'),
    kmsProfile: one(values, 'kms-profile'),
    profile: one(values, 'profile'),
  };
}

/** Whether any keyring option was given (then $ENCRYPTED_STREAM_KEYRING is not used). */
export function anyKeyringOption(options: KeyringOptions): boolean {
  return (
    options.keyring !== undefined ||
    options.recipients.length > 0 ||
    options.recipientsFile !== undefined ||
    options.identities.length > 0 ||
    options.kmsKeyIds.length > 0 ||
    options.kmsDiscoveryAccounts.length > 0
  );
}
