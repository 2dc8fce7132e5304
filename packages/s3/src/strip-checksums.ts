const CHECKSUM_FIELDS = [
  'ChecksumCRC32',
  'ChecksumCRC32C',
  'ChecksumCRC64NVME',
  'ChecksumSHA1',
  'ChecksumSHA256',
  'ChecksumType',
] as const;

/** Drops response checksums: they describe the stored ciphertext, not the plaintext returned. */
export function stripChecksums(output: Record<string, unknown>): void {
  for (const field of CHECKSUM_FIELDS) delete output[field];
}

/**
 * Throws TypeError if the caller supplied checksum values: they would describe
 * the plaintext and cannot be sent for the ciphertext. (A ChecksumAlgorithm
 * alone is fine: the SDK computes it over the ciphertext.)
 */
export function assertNoPlaintextChecksums(input: Record<string, unknown>, command: string): void {
  for (const field of ['ContentMD5', ...CHECKSUM_FIELDS.filter((f) => f !== 'ChecksumType')]) {
    if (input[field] !== undefined) {
      throw new TypeError(
        `${command}: ${field} describes the plaintext and cannot be sent with encrypted data; ` +
          'omit it (set ChecksumAlgorithm to have the SDK checksum the ciphertext)',
      );
    }
  }
}
