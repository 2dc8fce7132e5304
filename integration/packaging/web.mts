// The web package's types as an application's strict TypeScript (nodenext,
// with the DOM lib a page and its worker compile against) uses them.
import type { Keyring } from '@encrypted-stream/codec';
import {
  createMediaHandler,
  EncryptedMediaError,
  type MediaLogEntry,
  type PresignClient,
  parsePlaintextRange,
  type UploadProgress,
  uploadEncrypted,
  WebErrorCode,
} from '@encrypted-stream/web';

export function handler(keyring: Keyring, log: (entry: MediaLogEntry) => void) {
  return createMediaHandler({
    resolve: (id: string) => fetch(`/presign/get?${id}`).then((r) => r.json()),
    keyring: () => keyring,
    locate: (id: string) => ({ key: `media/${id}` }),
    log,
  });
}

export async function upload(service: PresignClient, keyring: Keyring, file: Blob): Promise<number> {
  const progress: UploadProgress[] = [];
  const result = await uploadEncrypted({
    service,
    key: 'media/x',
    body: file,
    keyring,
    concurrency: 2,
    onProgress: (p: UploadProgress) => progress.push(p),
  });
  return result.ciphertextSize;
}

export const code: string = WebErrorCode.S3_FAILED;
export const isMediaError = (e: unknown): e is EncryptedMediaError => e instanceof EncryptedMediaError;
export const range = parsePlaintextRange('bytes=0-9', 100);
