// The settings module alone, not the package's index: jest's globalSetup loads this file with Node's own
// resolution (without the @encrypted-stream/source condition), where the index's @encrypted-stream/s3
// would need a build.
import { assertReachable, s3Settings, s3SettingsEnv } from '@encrypted-stream/test-support/s3-settings';
import { clearFigures, FIGURES_PATH } from './figures';

/**
 * Starts every run with an empty figures file; finds the S3 server (`S3_*` variables, else the local
 * server of `scripts/s3-server.sh`), exports its `S3_*` variables for the test files and checks that
 * it answers.
 */
export default async function globalSetup(): Promise<void> {
  clearFigures();
  const settings = s3Settings();
  Object.assign(process.env, s3SettingsEnv(settings));
  await assertReachable(settings);
  process.env.ES_RELIABILITY_FIGURES = FIGURES_PATH;
}
