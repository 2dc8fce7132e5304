/**
 * The KMS test double (`@encrypted-stream/test-support/kms-test-double`: KMS's
 * JSON protocol with SigV4 signatures checked; a test double, not AWS KMS)
 * for the CLI's tests, started in the jest process: the binary, spawned
 * asynchronously, reaches it over HTTP with `--kms-endpoint`, signing with the
 * double's test credentials from a profile of their own (`--kms-profile`), so
 * that its S3 requests keep the S3 server's credentials.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KmsTestDouble, TEST_DOUBLE_CREDENTIALS } from '@encrypted-stream/test-support/kms-test-double';

export { KmsTestDouble, TEST_DOUBLE_ACCOUNT } from '@encrypted-stream/test-support/kms-test-double';

/** The profile name the CLI is given with --kms-profile. */
export const KMS_PROFILE = 'kms-test-double';

/** A running double with what a CLI run needs to reach it. */
export interface CliKms {
  readonly double: KmsTestDouble;
  /** `--kms-endpoint URL --kms-profile NAME`. */
  readonly flags: string[];
  /** The environment naming the credentials file that holds the profile (and an empty config file). */
  readonly env: Record<string, string>;
}

/** Starts the double and writes a credentials file holding its test credentials under {@link KMS_PROFILE}, in `dir`. */
export async function startKms(dir: string): Promise<CliKms> {
  const double = await KmsTestDouble.start();
  const credentials = join(dir, 'aws-credentials');
  const config = join(dir, 'aws-config');
  writeFileSync(
    credentials,
    `[${KMS_PROFILE}]\naws_access_key_id = ${TEST_DOUBLE_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${TEST_DOUBLE_CREDENTIALS.secretAccessKey}\n`,
    { mode: 0o600 },
  );
  writeFileSync(config, '', { mode: 0o600 });
  return {
    double,
    flags: ['--kms-endpoint', double.endpoint, '--kms-profile', KMS_PROFILE],
    env: { AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: config },
  };
}
