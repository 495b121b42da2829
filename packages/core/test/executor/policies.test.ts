/**
 * ARCHITECTURE.md section 3 "Hook payload policies follow Python: with a policy for the hook, only
 * changes to its writable fields are applied (others dropped with a warning; no writable change =
 * not modified); with default_hook_policy: deny, modifications on hooks without a policy are
 * ignored." Settings rows `hook_policies` and `default_hook_policy`.
 */
import { describe, expect, it } from 'vitest';
import { newManager, probe, Trail, run } from './helpers.js';

describe('hook_policies (ARCH s3 "Hook payload policies")', () => {
  it('with a policy for the hook only changes to its writable fields are applied; others are dropped with a warning (ARCH s3 "Hook payload policies")', async () => {
    const m = newManager({ hookPolicies: { tool_pre_invoke: ['args'] } });
    probe(m, new Trail(), 'editor', {}, (p) => ({
      modifiedPayload: { ...p, name: 'renamed', args: { q: 2 } },
    }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 'orig', args: { q: 1 } });
    expect(r.payloadModified).toBe(true);
    expect(r.modifiedPayload).toEqual({ name: 'orig', args: { q: 2 } });
    const warning = m.log.lines.find((l) => l.level === 'warn' && l.msg.includes('editor'));
    expect(warning).toBeDefined();
    expect(JSON.stringify(warning)).toContain('name');
  });

  it('with a policy, a modification that changes no writable field is not a modification (ARCH s3 "no writable change = not modified")', async () => {
    const m = newManager({ hookPolicies: { tool_pre_invoke: ['args'] } });
    probe(m, new Trail(), 'editor', {}, (p) => ({ modifiedPayload: { ...p, name: 'renamed' } }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 'orig', args: { q: 1 } });
    expect(r.payloadModified).toBe(false);
    expect(r.modifiedPayload).toBeNull();
  });

  it('with a policy, returning the unchanged payload is not a modification (ARCH s3 "no writable change = not modified")', async () => {
    const m = newManager({ hookPolicies: { tool_pre_invoke: ['args'] } });
    probe(m, new Trail(), 'same', {}, (p) => ({ modifiedPayload: p }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 'orig', args: { q: 1 } });
    expect(r.payloadModified).toBe(false);
  });

  it('a policy applies only to its own hook; other hooks accept any modification under default_hook_policy allow (ARCH s3 "Hook payload policies")', async () => {
    const m = newManager({ hookPolicies: { tool_pre_invoke: ['args'] } });
    probe(m, new Trail(), 'editor', { hook: 'tool_post_invoke' }, (p) => ({
      modifiedPayload: { ...p, name: 'renamed' },
    }));
    await m.initialize();
    const r = await run(m, 'tool_post_invoke', { name: 'orig', result: {} });
    expect(r.modifiedPayload).toEqual({ name: 'renamed', result: {} });
  });

  it('with a policy, writable changes chain across plugins (ARCH s3 "Hook payload policies")', async () => {
    const m = newManager({ hookPolicies: { tool_pre_invoke: ['args', 'headers'] } });
    probe(m, new Trail(), 'a', { priority: 1 }, (p) => ({ modifiedPayload: { ...p, args: { q: 2 } } }));
    probe(m, new Trail(), 'b', { priority: 2 }, (p) => ({
      modifiedPayload: { ...p, headers: { h: 'v' }, name: 'x' },
    }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 'orig', args: { q: 1 } });
    expect(r.modifiedPayload).toEqual({ name: 'orig', args: { q: 2 }, headers: { h: 'v' } });
  });

  it('hook_policies come from YAML plugin_settings (ARCH s3 settings table)', async () => {
    const m = newManager();
    await m.loadConfigText('plugin_settings:\n  hook_policies:\n    tool_pre_invoke: [args]\n');
    expect(m.settings.hookPolicies).toEqual({ tool_pre_invoke: ['args'] });
    probe(m, new Trail(), 'editor', {}, (p) => ({
      modifiedPayload: { ...p, name: 'renamed', args: { q: 9 } },
    }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { name: 'orig', args: { q: 1 } });
    expect(r.modifiedPayload).toEqual({ name: 'orig', args: { q: 9 } });
  });
});

describe('default_hook_policy (ARCH s3 "Hook payload policies")', () => {
  it('default_hook_policy defaults to allow: without a policy every returned modification is accepted (ARCH s3 settings table)', async () => {
    const m = newManager();
    expect(m.settings.defaultHookPolicy).toBe('allow');
    probe(m, new Trail(), 'editor', {}, (p) => ({ modifiedPayload: { ...p, anything: true } }));
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { q: 1 });
    expect(r.modifiedPayload).toEqual({ q: 1, anything: true });
  });

  it('default_hook_policy deny: modifications on hooks without a policy are ignored (ARCH s3 "with default_hook_policy: deny ...")', async () => {
    const m = newManager({ defaultHookPolicy: 'deny' });
    const seen: unknown[] = [];
    probe(m, new Trail(), 'editor', { priority: 1 }, (p) => ({ modifiedPayload: { ...p, changed: true } }));
    probe(m, new Trail(), 'next', { priority: 2 }, (p) => {
      seen.push({ ...p });
      return undefined;
    });
    await m.initialize();
    const r = await run(m, 'tool_pre_invoke', { q: 1 });
    expect(r.payloadModified).toBe(false);
    expect(r.modifiedPayload).toBeNull();
    expect(r.continueProcessing).toBe(true);
    expect(seen).toEqual([{ q: 1 }]);
  });

  it('default_hook_policy deny still applies a hook\'s own policy (ARCH s3 "hooks without one")', async () => {
    const m = newManager({ defaultHookPolicy: 'deny', hookPolicies: { tool_pre_invoke: ['args'] } });
    probe(m, new Trail(), 'editor', {}, (p) => ({ modifiedPayload: { ...p, args: { q: 2 } } }));
    probe(m, new Trail(), 'other', { hook: 'tool_post_invoke' }, (p) => ({
      modifiedPayload: { ...p, x: 1 },
    }));
    await m.initialize();
    const pre = await run(m, 'tool_pre_invoke', { args: { q: 1 } });
    const post = await run(m, 'tool_post_invoke', { result: 1 });
    expect(pre.modifiedPayload).toEqual({ args: { q: 2 } });
    expect(post.modifiedPayload).toBeNull();
  });

  it('default_hook_policy deny from PLUGINS_DEFAULT_HOOK_POLICY and from YAML (ARCH s3 settings table)', async () => {
    const fromEnv = newManager({ env: { PLUGINS_DEFAULT_HOOK_POLICY: 'deny' } });
    expect(fromEnv.settings.defaultHookPolicy).toBe('deny');
    const fromYaml = newManager();
    await fromYaml.loadConfig({ plugin_settings: { default_hook_policy: 'deny' } });
    expect(fromYaml.settings.defaultHookPolicy).toBe('deny');
    probe(fromYaml, new Trail(), 'editor', {}, (p) => ({ modifiedPayload: { ...p, changed: true } }));
    await fromYaml.initialize();
    const r = await run(fromYaml, 'tool_pre_invoke', { q: 1 });
    expect(r.payloadModified).toBe(false);
  });
});
