// docs/hosts/contract.md: a host's test runs the contract suite.
import type { HostProbe } from '@cpex/sdk/testing';

declare function createMyHost(): PluginHost;
declare function myProbe(): HostProbe;

// #region test-host
import { CpexError, type PluginHost, type PluginFactory } from '@cpex/core/host';
import { testHost } from '@cpex/sdk/testing';

await testHost({ name: 'mine', makeHost: () => createMyHost(), probe: myProbe() });
// #endregion
