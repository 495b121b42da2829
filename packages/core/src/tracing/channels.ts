/**
 * Tracing through `node:diagnostics_channel`. Publishing is gated on `hasSubscribers`, so it costs
 * nothing when nobody listens.
 *
 * Channels (message shapes below):
 * - `cpex:hook:start` / `cpex:hook:end` — one invoke of one hook.
 * - `cpex:plugin:start` / `cpex:plugin:end` — one plugin call, with its phase and outcome.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import type { Phase } from '../types.js';

export interface HookStartMessage {
  /** The PluginManager instance that published (to tell managers apart). */
  manager: object;
  /** Unique per manager, increasing. */
  invocationId: number;
  hook: string;
  requestId: string;
  plugins: number;
}
export interface HookEndMessage extends HookStartMessage {
  continueProcessing: boolean;
  /** Plugin that halted the pipeline, if any. */
  stoppedBy: string | null;
  executed: number;
  durationMs: number;
}
export type PluginOutcome = 'allow' | 'modify' | 'deny' | 'error' | 'timeout' | 'aborted' | 'skipped';
export interface PluginStartMessage {
  manager: object;
  invocationId: number;
  hook: string;
  plugin: string;
  phase: Phase;
}
export interface PluginEndMessage extends PluginStartMessage {
  outcome: PluginOutcome;
  durationMs: number;
  /** Error code (lowercase manager code) when outcome is error/timeout. */
  code?: string;
}

export const hookStartChannel = diagnostics_channel.channel('cpex:hook:start');
export const hookEndChannel = diagnostics_channel.channel('cpex:hook:end');
export const pluginStartChannel = diagnostics_channel.channel('cpex:plugin:start');
export const pluginEndChannel = diagnostics_channel.channel('cpex:plugin:end');

export const CHANNEL_NAMES = {
  hookStart: 'cpex:hook:start',
  hookEnd: 'cpex:hook:end',
  pluginStart: 'cpex:plugin:start',
  pluginEnd: 'cpex:plugin:end',
} as const;
