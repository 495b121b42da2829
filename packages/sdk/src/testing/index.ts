/**
 * @cpex/sdk/testing — unit-test plugins against the real executor, and the behaviour suite every
 * plugin host runs.
 *
 * - `createTestManager({ plugins, config, settings })` → an initialized manager with a handy `invoke`;
 * - `testHost({ name, makeHost, probe })` → the `PluginHost` suite (vitest by default);
 * - `inProcessProbe()` / `probePlugin` → probe plugins for in-process hosts.
 */
export { createTestManager } from './create-test-manager.js';
export type {
  TestInvokeOptions,
  TestInvokeResult,
  TestManager,
  TestManagerOptions,
  TestPlugin,
} from './create-test-manager.js';
export { testHost } from './host-suite.js';
export type { HostSuiteOptions, SuiteApi } from './host-suite.js';
export { inProcessProbe } from './in-process-probe.js';
export { default as probePlugin, probeEvents } from './probe-plugin.js';
export type { HostileKind, HostLimit, HostProbe, ProbeBehaviour, ProbeEntry } from './probe.js';
