import type { CryptoBackend } from './backend';
import type { Sodium } from './sodium';

/**
 * What `#native-backend` resolves to outside Node (browsers, workers): no
 * native AEAD, so every cipher runs on libsodium's WebAssembly. Node gets
 * `node/native-backend.ts` instead (package.json `imports`).
 */
export const nativeBackend: ((sodium: Sodium) => CryptoBackend) | undefined = undefined;
