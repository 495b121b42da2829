/**
 * Issue 11 item 5: one rule for a plugin's modified payload, in core, for every host. For each
 * built-in hook the shapes Python cpex accepts (the request payload, or the hook's result model
 * where Python takes either) are accepted, anything else is refused as CPEX_ERR_INVALID_RESULT —
 * identically whether the plugin ran in-process or behind a boundary host.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Handler, HostCapabilities, PluginFactory } from '../../src/index.js';
import { newManager, run } from './helpers.js';

const BOUNDARY: HostCapabilities = { supportsTimeouts: 'cooperative', isolated: true, copiesPayloads: true };

/** Register `handler` for `hook` both in-process and on a (simulated) boundary host. */
async function bothHosts(hook: string, handler: Handler, extra: Record<string, unknown> = {}) {
  const out = [];
  for (const host of ['in-process', 'boundary'] as const) {
    const m = newManager();
    if (host === 'in-process') m.registerHook(hook, handler, { name: 'p', onError: 'ignore', ...extra });
    else {
      const f: PluginFactory = {
        create: async () => ({
          // a boundary host hands the plugin a copy, and returns a plain decoded value
          handler: () => (p, c, e) => handler(structuredClone(p), c, e),
          host: BOUNDARY,
        }),
      };
      m.registerFactory('boundary', f);
      await m.loadConfig({
        plugins: [{ name: 'p', kind: 'boundary', hooks: [hook], on_error: 'ignore', ...extra }],
      });
    }
    await m.initialize();
    out.push({ host, m });
  }
  return out;
}

const PERMISSION = { user_email: 'alice@example.com', permission: 'tools.read', is_admin: false };

interface Case {
  hook: string;
  payload: unknown;
  accepted: Array<[string, unknown]>;
  refused: Array<[string, unknown]>;
}

const CASES: Case[] = [
  {
    hook: 'http_auth_check_permission',
    payload: PERMISSION,
    accepted: [
      [
        'a modified request payload (Python accepts it; it drives _decision_plugin)',
        { ...PERMISSION, is_admin: true },
      ],
      ['the result model', { granted: true, reason: 'policy' }],
      ['the result model without reason', { granted: false }],
    ],
    refused: [
      ['granted as a string', { granted: 'yes' }],
      ['a request without user_email', { permission: 'x' }],
      ['an array', [PERMISSION]],
      ['a string', 'granted'],
    ],
  },
  {
    hook: 'http_pre_request',
    payload: { path: '/x', method: 'GET', headers: { a: '1' } },
    accepted: [
      ['the headers model (HttpHeaderPayload)', { a: '2', 'x-added': 'y' }],
      ['a modified request payload', { path: '/y', method: 'GET', headers: { a: '1' } }],
    ],
    refused: [
      ['a header value that is not a string', { a: 1 }],
      ['a request whose path is a number', { path: 5, method: 'GET', headers: {} }],
    ],
  },
  {
    hook: 'identity_resolve',
    payload: { raw_token: 't0k3n', source: 'bearer', headers: {} },
    accepted: [
      ['the IdentityResult model', { rejected: true, reject_status: 403, reject_reason: 'revoked' }],
      ['a modified request payload', { raw_token: 'other', source: 'bearer', headers: {} }],
    ],
    refused: [['reject_status as a string', { rejected: true, reject_status: '403' }]],
  },
  {
    hook: 'tool_pre_invoke',
    payload: { name: 'calc', args: { x: 1 } },
    accepted: [['a modified request payload', { name: 'calc', args: { x: 2 } }]],
    refused: [
      ['name as a number', { name: 7, args: {} }],
      ['args as a list', { name: 'calc', args: [1] }],
      ['null name', { name: null }],
    ],
  },
];

describe('one result rule for every host (issue 11 item 5)', () => {
  for (const c of CASES) {
    for (const [what, modified] of c.accepted) {
      it(`${c.hook}: ${what} is accepted in-process and behind a boundary host alike`, async () => {
        for (const { host, m } of await bothHosts(c.hook, () => ({ modifiedPayload: modified }))) {
          const r = await run(m, c.hook, c.payload);
          expect(r.errors, host).toEqual([]);
          expect(r.payloadModified, host).toBe(true);
          expect(r.modifiedPayload, host).toEqual(modified);
          if (c.hook === 'http_auth_check_permission') expect(r.metadata._decision_plugin, host).toBe('p');
        }
      });
    }
    for (const [what, modified] of c.refused) {
      it(`${c.hook}: ${what} is refused as CPEX_ERR_INVALID_RESULT in-process and behind a boundary host alike`, async () => {
        for (const { host, m } of await bothHosts(c.hook, () => ({ modifiedPayload: modified }))) {
          const r = await run(m, c.hook, c.payload);
          expect(r.errors, host).toEqual([
            expect.objectContaining({ pluginName: 'p', errorCode: 'CPEX_ERR_INVALID_RESULT' }),
          ]);
          expect(r.payloadModified, host).toBe(false);
          expect(r.metadata._decision_plugin, host).toBeUndefined();
        }
      });
    }
  }

  it('a custom hook defined with schemas gets the same rule; an undefined custom hook accepts any value', async () => {
    const m = newManager();
    m.defineHook('ticket_check', {
      payloadSchema: z.object({ id: z.string() }),
      resultSchema: z.object({ ok: z.boolean() }),
    });
    m.registerHook(
      'ticket_check',
      (_p, ctx) => ({ modifiedPayload: ctx.state.bad ? { ok: 'no' } : { ok: true } }),
      {
        name: 't',
        onError: 'ignore',
      },
    );
    m.registerHook('free_hook', () => ({ modifiedPayload: 42 }), { name: 'f' });
    await m.initialize();
    expect((await run(m, 'ticket_check', { id: 'a' })).modifiedPayload).toEqual({ ok: true });
    expect((await run(m, 'free_hook', { anything: true })).modifiedPayload).toBe(42);
  });

  it('an ad-hoc payload on a built-in hook (no shape to keep) accepts any modification', async () => {
    const m = newManager();
    m.registerHook('tool_pre_invoke', () => ({ modifiedPayload: { anything: 1 } }), { name: 'p' });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { not: 'a tool call' });
    expect(r.modifiedPayload).toEqual({ anything: 1 });
  });

  it('returning the same object again stays accepted, each time as a copy of its own (the plugin keeps its object)', async () => {
    const m = newManager();
    const same = { name: 'calc', args: { x: 3 } };
    m.registerHook('tool_pre_invoke', () => ({ modifiedPayload: same }), { name: 'p' });
    await m.initialize();
    const got: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await run(m, 'tool_pre_invoke', { name: 'calc', args: {} });
      expect(r.modifiedPayload).toEqual(same);
      expect(r.modifiedPayload).not.toBe(same);
      got.push(r.modifiedPayload);
    }
    expect(new Set(got).size).toBe(3);
  });

  it('a passthrough result never reaches the rule (nothing to check, nothing recorded)', async () => {
    const m = newManager();
    m.registerHook('http_auth_check_permission', () => ({ continueProcessing: true }), { name: 'p' });
    await m.initialize();
    const r = await run(m, 'http_auth_check_permission', { bogus: true });
    expect(r).toMatchObject({ payloadModified: false, errors: [], metadata: {} });
  });
});
