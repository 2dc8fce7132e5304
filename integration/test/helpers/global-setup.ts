import { assertReachable, s3SettingsEnv } from '@encrypted-stream/test-support/s3-settings';
import { type PreparedEndpoint, prepareEndpoint } from './s3-endpoint';

/** Holds what globalSetup started, for globalTeardown (both run in jest's parent process). */
export const PREPARED = Symbol.for('encrypted-stream.integration.prepared-endpoint');

/**
 * Finds or starts the S3 server once per run and exports its `S3_*` variables;
 * test files (in-band or in workers forked afterwards) read them from process.env.
 */
export default async function globalSetup(): Promise<void> {
  const prepared = await prepareEndpoint();
  (globalThis as Record<symbol, PreparedEndpoint | undefined>)[PREPARED] = prepared;
  Object.assign(process.env, s3SettingsEnv(prepared.settings));
  try {
    await assertReachable(prepared.settings);
  } catch (error) {
    await prepared.stop();
    throw error;
  }
  if (prepared.source === 'localstack') {
    process.stderr.write(`\nintegration: started LocalStack at ${prepared.settings.endpoint}\n`);
  }
}
