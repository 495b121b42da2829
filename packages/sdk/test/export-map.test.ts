// The export map of @cpex/sdk: what a plugin author imports, listed explicitly (no `export *`
// from core). A name that appears or vanishes fails here: change the sdk's surface on purpose,
// with a changeset and docs/api.md.
import * as core from '@cpex/core';
import * as coreCmf from '@cpex/core/cmf';
import * as coreExtensions from '@cpex/core/extensions';
import * as coreHost from '@cpex/core/host';
import * as sdk from '@cpex/sdk';
import * as testing from '@cpex/sdk/testing';
import { describe, expect, it } from 'vitest';

const SDK = [
  'ConfigError',
  'CpexError',
  'HOOK_METHODS',
  'MessageView',
  'MonotonicSet',
  'PLUGIN_CLASS',
  'Plugin',
  'PluginManager',
  'PluginViolationError',
  'allow',
  'appendDelegationHop',
  'definePlugin',
  'deny',
  'getHeader',
  'hasLabel',
  'hook',
  'hookHandler',
  'isCpexError',
  'labelsOf',
  'messageViews',
  'modify',
  'partsOf',
  'pluginSet',
  'setHeaders',
  'textOf',
  'toMutable',
  'withCandidateConstraint',
  'withCustom',
  'withLabels',
];

const SDK_TESTING = ['createTestManager', 'inProcessProbe', 'probeEvents', 'probePlugin', 'testHost'];

describe('@cpex/sdk export map', () => {
  it('exports exactly the pinned runtime names', () => {
    expect(Object.keys(sdk).sort()).toEqual(SDK);
    expect(Object.keys(testing).sort()).toEqual(SDK_TESTING);
  });

  it('every name it takes from core is the very binding core exports (one definition each)', () => {
    const homes: Record<string, unknown>[] = [core, coreExtensions, coreCmf, coreHost];
    const own = [
      'Plugin',
      'allow',
      'definePlugin',
      'deny',
      'hook',
      'hookHandler',
      'modify',
      'pluginSet',
      'toMutable',
    ];
    for (const name of SDK) {
      const value = (sdk as Record<string, unknown>)[name];
      const home = homes.find((m) => Object.hasOwn(m, name));
      if (own.includes(name)) {
        expect(home?.[name], `${name} is the sdk's own`).not.toBe(value);
        continue;
      }
      expect(home, `${name} comes from a core subpath`).toBeDefined();
      expect(value, name).toBe(home?.[name]);
    }
  });

  it('HOOK_METHODS and PLUGIN_CLASS are the markers core defines, not copies', () => {
    expect(sdk.HOOK_METHODS).toBe(coreHost.HOOK_METHODS);
    expect(sdk.PLUGIN_CLASS).toBe(coreHost.PLUGIN_CLASS);
  });

  it('core internals do not leak through the sdk', () => {
    for (const name of [
      'describeCause',
      'summarizeZodError',
      'resolveSettings',
      'copyPlain',
      'pluginToInstance',
    ]) {
      expect(SDK, name).not.toContain(name);
    }
  });
});
