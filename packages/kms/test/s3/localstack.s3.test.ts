/**
 * The same KMS keyring suite (kms-suite.ts) with LocalStack's KMS, where one
 * is reachable: KMS_ENDPOINT set by hand, or LocalStack started by this
 * package's globalSetup with testcontainers when a Docker engine answers.
 * Otherwise the suite is skipped, and says why and how to run it.
 */
import { localStackBackend, localStackEndpoint, localStackSkipReason } from '../helpers/backends';
import { describeKmsSuite } from './kms-suite';

if (localStackEndpoint()) {
  describeKmsSuite(localStackBackend);
} else {
  const reason = localStackSkipReason();
  process.stderr.write(
    `\nkms: the LocalStack KMS suite is skipped (${reason}). To run it, make a Docker engine available ` +
      '(the suite then starts localstack/localstack:3 itself), or start LocalStack by hand ' +
      '(docker run --rm -p 4566:4566 -e SERVICES=kms localstack/localstack:3) and set KMS_ENDPOINT=http://127.0.0.1:4566.\n',
  );
  describe.skip(`KmsKeyring with LocalStack's KMS (skipped: ${reason})`, () => {
    test('the KMS keyring suite against LocalStack', () => {});
  });
}
