/**
 * The primitives the format needs. Two implementations produce identical bytes:
 * `native` (node:crypto + libsodium's HChaCha20) and `libsodium` (WebAssembly only).
 * @public
 */
export interface CryptoBackend {
  /** Which implementation this is. */
  readonly name: 'native' | 'libsodium';
  /**
   * XChaCha20-Poly1305-IETF encryption of the concatenation of `plaintext`.
   * Returns the ciphertext pieces followed by the 16-byte tag as the last element.
   */
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: readonly Uint8Array[]): Uint8Array[];
  /**
   * XChaCha20-Poly1305-IETF decryption of the concatenation of `ciphertext`.
   * Returns the plaintext pieces, or `undefined` if the tag does not verify.
   */
  open(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array,
    ciphertext: readonly Uint8Array[],
    tag: Uint8Array,
  ): Uint8Array[] | undefined;
  /** HKDF-SHA256 (RFC 5869) extract-then-expand. */
  hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  /** HMAC-SHA256 of the concatenation of `data`. */
  hmacSha256(key: Uint8Array, data: readonly Uint8Array[]): Uint8Array;
  /** SHA-256. */
  sha256(data: Uint8Array): Uint8Array;
  /** Fresh CSPRNG bytes, owned by the caller. */
  randomBytes(length: number): Uint8Array;
  /** Constant-time equality of two byte strings. */
  equal(a: Uint8Array, b: Uint8Array): boolean;
}

/** A source of random bytes (a CSPRNG outside of tests). */
export type RandomSource = (length: number) => Uint8Array;
