import type { CryptoBackend } from './backend';
import { createLibsodiumBackend } from './libsodium-backend';
import { createNativeBackend, nativeChaChaAvailable } from './native-backend';
import { loadSodium } from './sodium';

let chosen: Promise<CryptoBackend> | undefined;

/**
 * The fastest backend this runtime supports: native where node:crypto has
 * chacha20-poly1305, libsodium otherwise. Both write identical bytes.
 * @public
 */
export function defaultBackend(): Promise<CryptoBackend> {
  chosen ??= loadSodium().then((sodium) =>
    nativeChaChaAvailable() ? createNativeBackend(sodium) : createLibsodiumBackend(sodium),
  );
  return chosen;
}

/**
 * A specific backend, e.g. to force the portable libsodium path.
 * @public
 */
export async function getBackend(name: CryptoBackend['name']): Promise<CryptoBackend> {
  const sodium = await loadSodium();
  if (name === 'libsodium') return createLibsodiumBackend(sodium);
  if (!nativeChaChaAvailable()) throw new RangeError('node:crypto chacha20-poly1305 is not available here');
  return createNativeBackend(sodium);
}
