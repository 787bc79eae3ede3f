export * from './types';
export { DEFAULT_ROUTING_CONFIG, type RoutingConfig } from './config';
export { createPolicy, POLICY_NAMES, type PolicyName } from './create-policy';
export { eligible, forEachLoadSample, loadScore, powerOfTwo, sampleEligible, workerById } from './eligibility';
