import { DEFAULT_ROUTING_CONFIG, type RoutingConfig } from './config';
import { CacheAwarePolicy } from './policies/cache-aware';
import { ConsistentHashPolicy, PrefixHashPolicy } from './policies/hash-ring';
import { ManualPolicy } from './policies/manual';
import { LeastLoadPolicy, PowerOfTwoPolicy, RandomPolicy, RoundRobinPolicy } from './policies/simple';
import type { PolicyDeps, RoutingPolicy } from './types';

export const POLICY_NAMES = ['cache_aware', 'round_robin', 'random', 'power_of_two', 'least_load', 'consistent_hash', 'prefix_hash', 'manual'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export function createPolicy(name: PolicyName, config: Partial<RoutingConfig>, deps: PolicyDeps): RoutingPolicy {
  const c = { ...DEFAULT_ROUTING_CONFIG, ...config };
  // Unless set on its own, the cold-move margin follows the warm one (twice it: a cold move costs a full prefill).
  if (config.coldBalanceAbsThreshold === undefined && config.balanceAbsThreshold !== undefined) c.coldBalanceAbsThreshold = 2 * config.balanceAbsThreshold;
  switch (name) {
    case 'cache_aware':
      return new CacheAwarePolicy(c);
    case 'round_robin':
      return new RoundRobinPolicy();
    case 'random':
      return new RandomPolicy();
    case 'power_of_two':
      return new PowerOfTwoPolicy();
    case 'least_load':
      return new LeastLoadPolicy(c);
    case 'consistent_hash':
      return new ConsistentHashPolicy(c);
    case 'prefix_hash':
      return new PrefixHashPolicy(c);
    case 'manual':
      return new ManualPolicy(c, deps.clock);
  }
}
