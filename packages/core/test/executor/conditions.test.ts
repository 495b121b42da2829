/**
 * ARCHITECTURE.md section 3 "Conditions (legacy, when routing is off): OR across entries, AND inside
 * one (server_ids, tenant_ids, tools, prompts, resources, agents, user_patterns, content_types)",
 * with the Python 0.1.x semantics the reference digest (section 4) records: evaluated once on the
 * ORIGINAL payload and the caller's GlobalContext, payload fields per hook family, user_patterns as
 * substring (string user) or key (dict user), content types normalized.
 */
import { describe, expect, it } from 'vitest';
import type { GlobalContext } from '../../src/index.js';
import { gctx, newManager, probe, recordingFactory, Trail, run } from './helpers.js';

/** Load one plugin named `p` with the given YAML conditions for `hook`; returns a runner. */
async function withConditions(conditions: unknown[], hook = 'tool_pre_invoke') {
  const m = newManager();
  const t = new Trail();
  m.registerFactory('probe', recordingFactory(t));
  await m.loadConfig({
    plugins: [{ name: 'p', kind: 'probe', hooks: [hook], conditions: conditions as never }],
  });
  await m.initialize();
  return async (payload: Record<string, unknown>, g: Partial<GlobalContext> = {}): Promise<boolean> => {
    const before = t.events.length;
    await run(m, hook, payload, { globalContext: gctx('r', g) });
    return t.events.length > before;
  };
}

describe('conditions: combination (ARCH s3 "OR across entries, AND inside one")', () => {
  it('no conditions: the plugin runs for every call (ARCH s3 "Conditions")', async () => {
    const runs = await withConditions([]);
    expect(await runs({ name: 'anything' })).toBe(true);
  });

  it('AND inside one condition: every field must match (ARCH s3 "AND inside one")', async () => {
    const runs = await withConditions([{ server_ids: ['s1'], tenant_ids: ['t1'], tools: ['search'] }]);
    expect(await runs({ name: 'search' }, { serverId: 's1', tenantId: 't1' })).toBe(true);
    expect(await runs({ name: 'search' }, { serverId: 's1', tenantId: 't2' })).toBe(false);
    expect(await runs({ name: 'search' }, { serverId: 's2', tenantId: 't1' })).toBe(false);
    expect(await runs({ name: 'other' }, { serverId: 's1', tenantId: 't1' })).toBe(false);
  });

  it('OR across conditions: any one matching condition is enough (ARCH s3 "OR across entries")', async () => {
    const runs = await withConditions([{ server_ids: ['s1'] }, { tenant_ids: ['t9'] }]);
    expect(await runs({}, { serverId: 's1' })).toBe(true);
    expect(await runs({}, { tenantId: 't9' })).toBe(true);
    expect(await runs({}, { serverId: 's2', tenantId: 't2' })).toBe(false);
  });

  it('empty fields inside a condition are ignored (`server_ids: []` means any) (Python semantics, ref s4)', async () => {
    const runs = await withConditions([{ server_ids: [], tools: ['search'] }]);
    expect(await runs({ name: 'search' })).toBe(true);
    expect(await runs({ name: 'search' }, { serverId: 'whatever' })).toBe(true);
  });

  it('conditions given in code (camelCase PluginCondition) behave the same (ARCH s3 "Conditions")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'coded', { conditions: [{ tenantIds: ['t1'], tools: ['search'] }, { serverIds: ['s9'] }] });
    await m.initialize();
    await run(m, 'tool_pre_invoke', { name: 'search' }, { globalContext: gctx('a', { tenantId: 't1' }) });
    await run(m, 'tool_pre_invoke', { name: 'search' }, { globalContext: gctx('b', { tenantId: 't2' }) });
    await run(m, 'tool_pre_invoke', { name: 'x' }, { globalContext: gctx('c', { serverId: 's9' }) });
    expect(t.ran).toEqual(['coded', 'coded']);
  });
});

describe('conditions given in code are normalized like YAML ones (ARCH s3 "Conditions"; ref s4)', () => {
  it('code conditions: empty fields are ignored (`serverIds: []` means any), as in YAML (ref s4 "Empty or absent fields are ignored")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'coded', { conditions: [{ serverIds: [], tenantIds: [], tools: ['search'] }] });
    await m.initialize();
    await run(m, 'tool_pre_invoke', { name: 'search' });
    await run(m, 'tool_pre_invoke', { name: 'other' });
    expect(t.ran).toEqual(['coded']);
  });

  it('code conditions: content types are normalized (case, parameters), as in YAML (ref s4 "content_types ... normalised")', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'coded', { conditions: [{ contentTypes: ['Application/JSON; charset=utf-8'] }] });
    await m.initialize();
    await run(m, 'tool_pre_invoke', {}, { globalContext: gctx('r', { contentType: 'application/json' }) });
    expect(t.ran).toEqual(['coded']);
  });
});

describe('conditions: context fields (ARCH s3 "server_ids, tenant_ids, user_patterns, content_types")', () => {
  it('server_ids / tenant_ids: exact membership; a missing value does not match (Python semantics, ref s4)', async () => {
    const runs = await withConditions([{ server_ids: ['srv'] }]);
    expect(await runs({}, { serverId: 'srv' })).toBe(true);
    expect(await runs({}, { serverId: 'srv-2' })).toBe(false);
    expect(await runs({}, { serverId: 'sr' })).toBe(false);
    expect(await runs({})).toBe(false);
  });

  it('user_patterns: a substring test against a string user (Python quirk kept, ref s4)', async () => {
    const runs = await withConditions([{ user_patterns: ['@corp.example'] }]);
    expect(await runs({}, { user: 'alice@corp.example' })).toBe(true);
    expect(await runs({}, { user: 'bob@other.example' })).toBe(false);
    expect(await runs({})).toBe(false);
    expect(await runs({}, { user: '' })).toBe(false);
  });

  it('user_patterns: a key test against a dict user (Python quirk kept, ref s4)', async () => {
    const runs = await withConditions([{ user_patterns: ['email'] }]);
    expect(await runs({}, { user: { email: 'x@y', id: 1 } })).toBe(true);
    expect(await runs({}, { user: { id: 1, name: 'email' } })).toBe(false);
  });

  it("content_types: the caller's content type is normalized (parameters dropped, trimmed, lower-cased) before exact membership (Python semantics, ref s4)", async () => {
    const runs = await withConditions([{ content_types: ['Application/JSON'] }]);
    expect(await runs({}, { contentType: 'application/json' })).toBe(true);
    expect(await runs({}, { contentType: ' APPLICATION/JSON; charset=utf-8 ' })).toBe(true);
    expect(await runs({}, { contentType: 'application/jsonl' })).toBe(false);
    expect(await runs({}, { contentType: '   ' })).toBe(false);
    expect(await runs({})).toBe(false);
  });
});

describe('conditions: payload fields per hook family (Python semantics, ref s4 table)', () => {
  const families: Array<[string, string, string]> = [
    ['tool_pre_invoke', 'tools', 'name'],
    ['tool_post_invoke', 'tools', 'name'],
    ['prompt_pre_fetch', 'prompts', 'prompt_id'],
    ['prompt_post_fetch', 'prompts', 'prompt_id'],
    ['resource_pre_fetch', 'resources', 'uri'],
    ['resource_post_fetch', 'resources', 'uri'],
    ['agent_pre_invoke', 'agents', 'agent_id'],
    ['agent_post_invoke', 'agents', 'agent_id'],
    ['token_delegate', 'tools', 'target_name'],
  ];
  for (const [hook, field, attr] of families) {
    it(`${hook}: a \`${field}\` condition tests payload.${attr} (ARCH s3 "Conditions"; ref s4)`, async () => {
      const runs = await withConditions([{ [field]: ['wanted'] }], hook);
      expect(await runs({ [attr]: 'wanted' })).toBe(true);
      expect(await runs({ [attr]: 'unwanted' })).toBe(false);
    });
  }

  it('payload-field conditions are ignored on hooks outside their family (custom, http_*, cmf.*) (ref s4)', async () => {
    for (const hook of ['my.custom', 'http_pre_request', 'cmf.llm_input']) {
      const runs = await withConditions([{ tools: ['wanted'], prompts: ['wanted'] }], hook);
      expect(await runs({ name: 'unwanted', prompt_id: 'unwanted' }), hook).toBe(true);
    }
  });

  it('a condition field of another family is ignored: `prompts` does not filter tool hooks (ref s4)', async () => {
    const runs = await withConditions([{ prompts: ['p1'] }], 'tool_pre_invoke');
    expect(await runs({ name: 'anything' })).toBe(true);
  });

  it('a falsy payload value passes the condition (Python quirk kept, ref s4)', async () => {
    const runs = await withConditions([{ tools: ['search'] }]);
    expect(await runs({ name: '' })).toBe(true);
    expect(await runs({})).toBe(true);
  });

  it('identity_resolve: a `tools` condition never matches a token (raw_token is a secret), and an empty token passes (the falsy quirk, as an empty SecretStr in Python) (ref s4)', async () => {
    const runs = await withConditions([{ tools: ['tok'] }], 'identity_resolve');
    expect(await runs({ raw_token: 'tok' })).toBe(false);
    expect(await runs({ raw_token: 'other' })).toBe(false);
    expect(await runs({ raw_token: '' })).toBe(true);
    expect(await runs({})).toBe(true);
  });
});

describe('conditions: evaluated on the ORIGINAL payload (ref s4 "evaluated once per invocation")', () => {
  it('a payload renamed by an earlier plugin does not change who runs (ARCH s3 "Conditions"; ref s4)', async () => {
    const m = newManager();
    const t = new Trail();
    probe(m, t, 'renamer', { priority: 1 }, (p) => ({ modifiedPayload: { ...p, name: 'renamed' } }));
    probe(m, t, 'forOriginal', { priority: 2, conditions: [{ tools: ['orig'] }] });
    probe(m, t, 'forRenamed', { priority: 3, conditions: [{ tools: ['renamed'] }] });
    probe(m, t, 'transformForOriginal', { mode: 'transform', conditions: [{ tools: ['orig'] }] });
    probe(m, t, 'concurrentForRenamed', { mode: 'concurrent', conditions: [{ tools: ['renamed'] }] });
    probe(m, t, 'fafForOriginal', { mode: 'fire_and_forget', conditions: [{ tools: ['orig'] }] });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 'orig' });
    await r.background.wait();
    expect(t.ran).toEqual(['renamer', 'forOriginal', 'transformForOriginal', 'fafForOriginal']);
    expect(r.modifiedPayload).toEqual({ name: 'renamed' });
  });

  it('a plugin skipped by its conditions leaves no entry in the context table (ARCH s3 "ran or was scheduled")', async () => {
    const m = newManager();
    probe(m, new Trail(), 'always');
    probe(m, new Trail(), 'never', { conditions: [{ serverIds: ['nope'] }] });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', {});
    expect(Object.keys(r.contextTable?.toJSON() ?? {})).toEqual(['always']);
  });
});
