import { concatBytes, utf8 } from '../format/bytes';
import {
  COMMITMENT_SIZE,
  CONTEXT_TAG_SIZE,
  KEY_SIZE,
  LABEL_COMMITMENT,
  LABEL_CONTEXT,
  LABEL_PAYLOAD,
  LABEL_STATE,
} from '../format/constants';
import { type EncryptionContext, encodeContext } from '../format/context';
import type { CryptoBackend } from './backend/backend';

/** Keys derived from a data key for one stream (FORMAT.md §4). */
export interface DerivedKeys {
  readonly payloadKey: Uint8Array;
  readonly commitment: Uint8Array;
  readonly contextTag: Uint8Array;
  /** Keys MACs over state the writer keeps outside the stream (resume tokens). */
  readonly stateKey: Uint8Array;
}

/** Runs the key schedule of FORMAT.md §4. */
export function deriveKeys(
  backend: CryptoBackend,
  dataKey: Uint8Array,
  streamId: Uint8Array,
  context: EncryptionContext | undefined,
): DerivedKeys {
  const contextDigest = backend.sha256(encodeContext(context));
  return {
    payloadKey: backend.hkdf(dataKey, streamId, utf8(LABEL_PAYLOAD), KEY_SIZE),
    commitment: backend.hkdf(dataKey, streamId, utf8(LABEL_COMMITMENT), COMMITMENT_SIZE),
    contextTag: backend.hkdf(dataKey, streamId, concatBytes([utf8(LABEL_CONTEXT), contextDigest]), CONTEXT_TAG_SIZE),
    stateKey: backend.hkdf(dataKey, streamId, utf8(LABEL_STATE), KEY_SIZE),
  };
}
