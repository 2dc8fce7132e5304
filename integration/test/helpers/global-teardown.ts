import { PREPARED } from './global-setup';
import type { PreparedEndpoint } from './s3-endpoint';

/** Stops the LocalStack container globalSetup started (nothing for a configured endpoint). */
export default async function globalTeardown(): Promise<void> {
  const slot = globalThis as Record<symbol, PreparedEndpoint | undefined>;
  const prepared = slot[PREPARED];
  slot[PREPARED] = undefined;
  await prepared?.stop();
}
