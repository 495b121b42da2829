// The PluginHost behaviour suite every host runs (@cpex/sdk/testing), driven through the native
// host with the C probe library, in-process (isolation: none).
import { createNativeHost } from '@cpex/host-native';
import { nativeProbe } from '@cpex/host-native/testing';
import { testHost } from '@cpex/sdk/testing';
import { LIBS, REPO } from './helpers.js';

await testHost({
  name: 'native (isolation: none)',
  makeHost: () => createNativeHost(),
  probe: nativeProbe(LIBS['libcpex_probe.so']),
  docsRoot: REPO,
});
