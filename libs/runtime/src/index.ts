export * from './clock';
export * from './timers';
export * from './rng';
export * from './virtual-scheduler';
export * from './errors';
export * from './logger';
export * from './metrics';
