import sodiumModule from 'libsodium-wrappers-sumo';

/** The libsodium instance, once its WebAssembly has loaded. */
export type Sodium = typeof sodiumModule;

let loaded: Promise<Sodium> | undefined;

/** Loads libsodium once. The sumo build is needed for `crypto_core_hchacha20`. */
export function loadSodium(): Promise<Sodium> {
  loaded ??= sodiumModule.ready.then(() => sodiumModule);
  return loaded;
}
