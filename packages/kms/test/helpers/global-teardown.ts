import type { StartedLocalStackContainer } from '@testcontainers/localstack';
import { STARTED } from './global-setup';

/** Stops the LocalStack container globalSetup started, if any. */
export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as Record<symbol, StartedLocalStackContainer | undefined>;
  const container = holder[STARTED];
  holder[STARTED] = undefined;
  await container?.stop();
}
