// The web package as a page and its Service Worker import it, bundled for
// browsers with esbuild from the installed tarballs (see packaging.test.ts):
// nothing reachable from the root entry may import a Node built-in.
import {
  createMediaHandler,
  decryptingBody,
  fetchPresignedGet,
  generateMasterKey,
  loadKeyring,
  presignClient,
  saveKey,
  serveEncryptedMedia,
  uploadEncrypted,
} from '@encrypted-stream/web';

export const used = [
  createMediaHandler,
  decryptingBody,
  fetchPresignedGet,
  generateMasterKey,
  loadKeyring,
  presignClient,
  saveKey,
  serveEncryptedMedia,
  uploadEncrypted,
];
