/**
 * `@encrypted-stream/codec/node`: the codec over Node's own I/O — stream
 * Transforms, a Writable that decrypts, files opened for random access. The
 * root entry runs anywhere; this one needs Node.
 * @packageDocumentation
 */
export { DecryptingWriter, type DecryptingWriterOptions, type PlaintextSink } from './node/decrypting-writer';
export { type EncryptedFile, openEncryptedFile } from './node/encrypted-file';
export { fileSource } from './node/file-source';
export { decryptingStream, encryptingStream } from './node/node-streams';
