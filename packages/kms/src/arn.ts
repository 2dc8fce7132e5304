import { MAX_KEY_ID_LENGTH } from '@encrypted-stream/codec/low-level';

/**
 * The parts of a KMS key ARN, `arn:<partition>:kms:<region>:<account>:key/<key id>`.
 * @public
 */
export interface KmsKeyArn {
  /** The ARN itself, as given. */
  readonly arn: string;
  /** `aws`, `aws-cn`, `aws-us-gov`, … */
  readonly partition: string;
  readonly region: string;
  /** The 12-digit AWS account id. */
  readonly accountId: string;
  /** The key id: a UUID, or `mrk-…` for a multi-Region key. */
  readonly keyId: string;
}

// Only key ARNs: no alias ARN, no bare key id. The character classes keep the
// whole ARN printable ASCII (FORMAT.md §3) and free of anything to escape.
const KEY_ARN = /^arn:(aws(?:-[a-z]+)*):kms:([a-z]{2}(?:-[a-z0-9]+)+):(\d{12}):key\/([A-Za-z0-9-]{1,128})$/;

/**
 * Parses a KMS key ARN; `undefined` for anything else (an alias, a bare key
 * id, another service's ARN, or more than the 200 characters a key id may have).
 * @public
 */
export function parseKmsKeyArn(value: unknown): KmsKeyArn | undefined {
  if (typeof value !== 'string' || value.length > MAX_KEY_ID_LENGTH) return undefined;
  const m = KEY_ARN.exec(value);
  if (!m) return undefined;
  const [, partition, region, accountId, keyId] = m as unknown as [string, string, string, string, string];
  return { arn: value, partition, region, accountId, keyId };
}

/** Parses a key ARN given as an option; throws TypeError/RangeError for anything else. */
export function requireKmsKeyArn(value: unknown, what: string): KmsKeyArn {
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string (a KMS key ARN)`);
  const parsed = parseKmsKeyArn(value);
  if (!parsed) {
    throw new RangeError(
      `${what} must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<key id>, at most ${MAX_KEY_ID_LENGTH} characters; no alias or bare key id), got ${JSON.stringify(value.slice(0, 220))}`,
    );
  }
  return parsed;
}
