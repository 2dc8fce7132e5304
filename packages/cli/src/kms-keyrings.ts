import type { KMSClient } from '@aws-sdk/client-kms';
import { ErrorCode, KeyError, type Keyring } from '@encrypted-stream/codec';
import type { WrappedKey } from '@encrypted-stream/codec/low-level';
import type { KmsKeyArn, KmsKeyring } from '@encrypted-stream/kms';
import { usageError } from './exit-codes';
import { silenceSdkNodeVersionWarning } from './sdk-warnings';

/** What the KMS keyring options say. */
export interface KmsSettings {
  /** `--kms-key-id`: the first wraps new data keys; every one unwraps. */
  readonly keyArns: readonly string[];
  /** `--kms-discovery-account`: `ID` or `PARTITION:ID`. */
  readonly discoveryAccounts: readonly string[];
  readonly endpoint: string | undefined;
  /**
   * `--kms-profile`: KMS signs with this profile's credentials (from the
   * shared config and credentials files, explicitly: not the SDK's default
   * chain, whose environment variables may hold S3's credentials).
   */
  readonly credentialsProfile: string | undefined;
  /** `--profile`: the S3 client's profile, which KMS also uses without --kms-profile. */
  readonly profile: string | undefined;
}

/** The kms package, loaded only when a KMS option is given (it loads the KMS SDK). */
const kmsPackage = () => require('@encrypted-stream/kms') as typeof import('@encrypted-stream/kms');

/**
 * The CLI's AWS KMS keyring: `@encrypted-stream/kms`'s `KmsKeyring`, one per
 * region and partition, each with a KMS client for the region its keys' ARNs
 * name (a key is used only in its own region, so the KMS region is never a
 * setting to get wrong). Wraps under the first `--kms-key-id`; unwraps a key
 * block whose key id is one of the `--kms-key-id` ARNs, or any key ARN of a
 * `--kms-discovery-account`; any other key id is `ES_UNKNOWN_KEY` without a
 * KMS request (the kms package's filter).
 */
export class CliKmsKeyring implements Keyring {
  readonly #keys: readonly KmsKeyArn[];
  /** Partition → discovery account ids. */
  readonly #discovery: ReadonlyMap<string, readonly string[]>;
  readonly #settings: KmsSettings;
  readonly #byRegion = new Map<string, KmsKeyring | undefined>();

  /** Checks every ARN and account id now (usage errors, exit 2). */
  constructor(settings: KmsSettings) {
    const { parseKmsKeyArn } = kmsPackage();
    this.#settings = settings;
    this.#keys = settings.keyArns.map((arn) => {
      const parsed = parseKmsKeyArn(arn);
      if (!parsed) {
        throw usageError(
          `--kms-key-id ${JSON.stringify(arn.slice(0, 220))} is not a KMS key ARN (arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID; no alias or bare key id)`,
        );
      }
      return parsed;
    });
    const discovery = new Map<string, string[]>();
    for (const text of settings.discoveryAccounts) {
      const m = /^(?:(aws(?:-[a-z]+)*):)?(\d{12})$/.exec(text);
      if (!m) {
        throw usageError(
          `--kms-discovery-account ${JSON.stringify(text.slice(0, 80))} is not a 12-digit AWS account id (or PARTITION:ID)`,
        );
      }
      const partition = m[1] ?? 'aws';
      discovery.set(partition, [...(discovery.get(partition) ?? []), m[2] as string]);
    }
    this.#discovery = discovery;
  }

  /** The ARN new data keys are wrapped under (undefined: discovery only, unwraps only). */
  get primaryKeyArn(): string | undefined {
    return this.#keys[0]?.arn;
  }

  /** Wraps under the first --kms-key-id, with one KMS Encrypt in its region. */
  async wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    const primary = this.#keys[0];
    if (!primary)
      throw new TypeError('--kms-discovery-account only unwraps: give the key to wrap with --kms-key-id ARN');
    return (this.#keyringFor(primary.partition, primary.region) as KmsKeyring).wrap(dataKey, aad);
  }

  /** Unwraps with one KMS Decrypt in the key's region, if the key id is a key ARN these options accept. */
  async unwrap(wrapped: WrappedKey, aad: Uint8Array): Promise<Uint8Array> {
    const arn = kmsPackage().parseKmsKeyArn(wrapped?.keyId);
    const keyring = arn ? this.#keyringFor(arn.partition, arn.region) : undefined;
    if (!keyring) {
      throw new KeyError(
        ErrorCode.UNKNOWN_KEY,
        `the KMS keyring does not accept key id ${JSON.stringify(String(wrapped?.keyId).slice(0, 200))} (give it with --kms-key-id, or its account with --kms-discovery-account)`,
      );
    }
    return keyring.unwrap(wrapped, aad);
  }

  /** The kms package's keyring for one region: the keys listed there, and discovery of that partition. */
  #keyringFor(partition: string, region: string): KmsKeyring | undefined {
    const id = `${partition}/${region}`;
    if (!this.#byRegion.has(id)) {
      const [primary, ...others] = this.#keys.filter((k) => k.partition === partition && k.region === region);
      const accountIds = this.#discovery.get(partition);
      const { KmsKeyring } = kmsPackage();
      this.#byRegion.set(
        id,
        primary || accountIds
          ? new KmsKeyring({
              client: this.#client(region),
              ...(primary ? { primaryKeyArn: primary.arn } : {}),
              keyArns: others.map((k) => k.arn),
              ...(accountIds ? { discovery: { partition, accountIds } } : {}),
            })
          : undefined,
      );
    }
    return this.#byRegion.get(id);
  }

  /** A KMS client for `region`, credentials from --kms-profile, else as the S3 client's (--profile or the SDK's default chain). */
  #client(region: string): KMSClient {
    silenceSdkNodeVersionWarning();
    const { KMSClient } = require('@aws-sdk/client-kms') as typeof import('@aws-sdk/client-kms');
    const { endpoint, credentialsProfile, profile } = this.#settings;
    const credentials = credentialsProfile
      ? (require('@aws-sdk/credential-provider-ini') as typeof import('@aws-sdk/credential-provider-ini')).fromIni({
          profile: credentialsProfile,
        })
      : undefined;
    return new KMSClient({
      region,
      ...(endpoint ? { endpoint } : {}),
      ...(credentials ? { credentials } : profile ? { profile } : {}),
    });
  }
}
