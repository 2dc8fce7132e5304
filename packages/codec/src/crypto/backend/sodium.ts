// Resolved per runtime by package.json `imports`: under Node a lazy require, elsewhere import().

import type sodiumModule from 'libsodium-wrappers-sumo';
import { importSodium } from '#native-backend';

/** The libsodium instance, once its WebAssembly has loaded. */
export type Sodium = typeof sodiumModule;

let loaded: Promise<Sodium> | undefined;

/**
 * Loads libsodium once, on first use: its 1.2 MB of WebAssembly glue (about
 * 50 ms and 12 MiB) is then paid only by a process that opens a cipher or
 * unwraps a key. The sumo build is needed for `crypto_core_hchacha20`.
 */
export function loadSodium(): Promise<Sodium> {
  loaded ??= importSodium().then((sodium) => sodium.ready.then(() => sodium));
  return loaded;
}
