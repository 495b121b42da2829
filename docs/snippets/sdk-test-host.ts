// docs/sdk.md: the in-process host's contract test.
import { createInProcessHost } from '@cpex/core/host';
import { inProcessProbe, probePlugin, testHost } from '@cpex/sdk/testing';

// #region test-host
await testHost({
  name: 'in-process',
  makeHost: () => createInProcessHost((entry) => probePlugin(entry.config, entry)),
  probe: inProcessProbe(),
});
// #endregion
