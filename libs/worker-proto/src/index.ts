export * from './types';
export { WorkerRpcError } from './errors';
export { WorkerClient, parseWorkerUrl } from './worker-client';
export { enginePackages, protoDir, PROTO_OPTIONS, SERVICES, lookup } from './proto-loader';
export { fromGenerateResponse, fromKvBatch, fromLoads, fromModelInfo, toGenerateRequest } from './wire-mapping';
export { collectTokenizerArchive, DEFAULT_MAX_TOKENIZER_ARCHIVE_BYTES } from './tokenizer-download';
