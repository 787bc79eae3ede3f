/** Injection tokens for the injected world (ARCHITECTURE §3) and the validated config. */
export const CLOCK = Symbol('CLOCK');
export const TIMERS = Symbol('TIMERS');
export const RNG = Symbol('RNG');
export const LOGGER = Symbol('LOGGER');
export const CONFIG = Symbol('CONFIG');
export const METRICS = Symbol('METRICS');
