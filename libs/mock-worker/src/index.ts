export * from './engine-config';
export * from './mock-engine';
export * from './prefix-cache';
export * from './kv-events';
export { qwen3WordVocabulary, qwen3TokenizerPath } from './vocabulary';
export { startMockWorker, type MockWorker, type MockWorkerOptions } from './server/mock-server';
export { ChatWorkload, ChatSession, DEFAULT_CHAT_WORKLOAD, type ChatWorkloadConfig } from './workload';
export { personalityFor, ENGINE_KINDS, type EngineKind, type Personality } from './personality/personality';
