import type { CryptoBackend } from './backend';
import type { Sodium } from './sodium';

/**
 * What `#native-backend` resolves to outside Node (browsers, workers): no
 * native AEAD, so every cipher runs on libsodium's WebAssembly. Node gets
 * `node/native-backend.ts` instead (package.json `imports`).
 */
export const nativeBackend: ((sodium: Sodium) => CryptoBackend) | undefined = undefined;

/**
 * The libsodium module, loaded on first use. Outside Node a dynamic import(),
 * which bundlers split off; Node's variant requires it (a real import() would
 * send the CommonJS glue through Node's ES module loader, and jest cannot run one).
 */
export const importSodium = (): Promise<Sodium> =>
  import('libsodium-wrappers-sumo').then((m) => (m as unknown as { default: Sodium }).default);
