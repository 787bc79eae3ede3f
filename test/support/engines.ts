/**
 * The engines the main e2e specs run against: the demo's friendly mock and the personalities that
 * behave like real SGLang and vLLM servers (docs/engine-personalities.md). A spec parametrised
 * over these proves a behaviour on what production engines do, not only on what the mock does.
 */
export const E2E_ENGINES = ['mock', 'sglang', 'vllm'] as const;
export type E2eEngine = (typeof E2E_ENGINES)[number];
