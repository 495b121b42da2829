// docs/fleet.md: fleet-wide reload.
import type { PluginManager } from '@cpex/core';

declare const manager: PluginManager;

// #region fleet
import { FleetReload } from '@cpex/session-redis';
const fleet = await FleetReload.start(manager, { endpoint: process.env.REDIS_URL!, file: '/etc/cpex/plugins.yaml' });
fleet.status(); // { replica, hash, announced, announcedBy, diverged, lastError }
// #endregion
