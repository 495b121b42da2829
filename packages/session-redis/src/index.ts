/**
 * @cpex/session-redis — shared state for a fleet of CPEX gateways on Redis/Valkey.
 *
 * `RedisSessionStore` keeps session labels (taint) in Rust cpex's key schema so every replica —
 * TypeScript or Rust — sees the labels any replica added; backend errors fail closed.
 */
export { RedisSessionStore, DEFAULT_KEY_PREFIX } from './store.js';
export type { RedisSessionStoreOptions } from './store.js';
export {
  resolveEndpoint,
  redactEndpoint,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
} from './config.js';
export type { RedisEndpointOptions, ResolvedEndpoint } from './config.js';
export { createRedisClient } from './client.js';
export { FleetReload, DEFAULT_FLEET_CHANNEL } from './fleet.js';
export type { FleetReloadOptions, FleetStatus } from './fleet.js';
