/** The KMS keyring suite (kms-suite.ts) with the KMS test double, through the S3 plugin against the real S3 server. */
import { testDoubleBackend } from '../helpers/backends';
import { describeKmsSuite } from './kms-suite';

describeKmsSuite(testDoubleBackend);
