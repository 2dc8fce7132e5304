/**
 * `@encrypted-stream/codec/node`: the codec over Node's own I/O — stream
 * Transforms, a Writable that decrypts, files opened for random access, the
 * self-contained file format read and written in blocks with atomic output. The
 * root entry runs anywhere; this one needs Node.
 * @packageDocumentation
 */
export { writeAtomically } from './node/atomic-file';
export { readBlocks, readFully } from './node/block-reader';
export { DecryptingWriter, type DecryptingWriterOptions, type PlaintextSink } from './node/decrypting-writer';
export { type EncryptedFile, openEncryptedFile } from './node/encrypted-file';
export { decryptFile } from './node/file-decrypt';
export { encryptFile, type FileCryptOptions } from './node/file-encrypt';
export { fileSource } from './node/file-source';
export { FileWriter, type FileWriterOptions } from './node/file-writer';
export { readIdentityFile, type WriteIdentityFileOptions, writeIdentityFile } from './node/identity-file';
export { decryptingStream, encryptingStream } from './node/node-streams';
export type { PositionalFile } from './node/positional-file';
