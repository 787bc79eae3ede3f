export * from './types';
export { DEFAULT_ROUTING_CONFIG, type RoutingConfig } from './config';
export { createPolicy, POLICY_NAMES, type PolicyName } from './create-policy';
export { eligible, loadScore, powerOfTwo, sampleEligible } from './eligibility';
