// Resolved per runtime by package.json `imports`: node:crypto's AEAD under Node, nothing elsewhere.
import { nativeBackend } from '#native-backend';
import type { CryptoBackend } from './backend';
import { createLibsodiumBackend } from './libsodium-backend';
import { loadSodium } from './sodium';

let chosen: Promise<CryptoBackend> | undefined;

/**
 * The fastest backend this runtime supports: native where node:crypto has
 * chacha20-poly1305, libsodium's WebAssembly otherwise. Both write identical bytes.
 * @public
 */
export function defaultBackend(): Promise<CryptoBackend> {
  chosen ??= loadSodium().then((sodium) => (nativeBackend ?? createLibsodiumBackend)(sodium));
  return chosen;
}

/**
 * A specific backend, e.g. to force the portable libsodium path.
 * @public
 */
export async function getBackend(name: CryptoBackend['name']): Promise<CryptoBackend> {
  const sodium = await loadSodium();
  if (name === 'libsodium') return createLibsodiumBackend(sodium);
  if (!nativeBackend) throw new RangeError('the native backend needs Node with node:crypto chacha20-poly1305');
  return nativeBackend(sodium);
}
