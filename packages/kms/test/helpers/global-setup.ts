/**
 * jest globalSetup of the full run (not of test:unit): when `KMS_ENDPOINT` is
 * not set and a Docker engine answers, starts LocalStack's KMS with
 * testcontainers and exports `KMS_ENDPOINT` for the LocalStack suite (test
 * files, in band or in workers forked afterwards, read it from process.env);
 * otherwise records why that suite is skipped. `KMS_LOCALSTACK=off` skips it.
 */
import type { StartedLocalStackContainer } from '@testcontainers/localstack';

/** The image started when Docker answers (the same as the S3 integration suite's). */
export const LOCALSTACK_IMAGE = 'localstack/localstack:3';

/** Holds the container for globalTeardown (both run in jest's parent process). */
export const STARTED = Symbol.for('encrypted-stream.kms.localstack');

async function dockerAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export default async function globalSetup(): Promise<void> {
  if (process.env.KMS_ENDPOINT) return;
  if (process.env.KMS_LOCALSTACK === 'off') {
    process.env.KMS_LOCALSTACK_SKIPPED = 'KMS_LOCALSTACK=off';
    return;
  }
  if (!(await dockerAvailable())) {
    process.env.KMS_LOCALSTACK_SKIPPED = 'no Docker engine answered and KMS_ENDPOINT is not set';
    return;
  }
  const { LocalstackContainer } = await import('@testcontainers/localstack');
  const container: StartedLocalStackContainer = await new LocalstackContainer(LOCALSTACK_IMAGE)
    .withEnvironment({ SERVICES: 'kms' })
    .start();
  (globalThis as Record<symbol, StartedLocalStackContainer | undefined>)[STARTED] = container;
  process.env.KMS_ENDPOINT = container.getConnectionUri();
  process.env.KMS_REGION = 'us-east-1';
  process.stderr.write(`\nkms: started LocalStack's KMS at ${process.env.KMS_ENDPOINT}\n`);
}
