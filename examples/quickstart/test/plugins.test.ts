// Unit tests of the quickstart plugins with @cpex/sdk/testing: each runs through the real executor.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestManager } from '@cpex/sdk/testing';
import { describe, expect, it } from 'vitest';
import auditLogger, { auditTrail } from '../src/plugins/audit-logger.js';
import piiRedactor from '../src/plugins/pii-redactor.js';
import RateLimiter from '../src/plugins/rate-limiter.js';
import ToolAllowList from '../src/plugins/tool-allow-list.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const call = (name: string, args: Record<string, unknown> = {}) => ({ name, args });

describe('pii-redactor (transform)', () => {
  it('masks e-mail, phone and SSN in nested args and reports what it found', async () => {
    const plugin = piiRedactor({ detect: ['email', 'phone', 'ssn'] }, { name: 'pii' } as never);
    await using tm = await createTestManager({ plugins: [{ plugin, entry: { mode: 'transform' } }] });
    const r = await tm.invoke(
      'tool_pre_invoke',
      call('send', {
        to: ['a.b@x.io'],
        note: { text: 'ring +1 555 987 6543 or 555-123-4567, ssn 078-05-1120' },
      }),
    );
    expect(r.modifiedPayload).toEqual({
      name: 'send',
      args: { to: ['[EMAIL]'], note: { text: 'ring [PHONE] or [PHONE], ssn [SSN]' } },
    });
    expect(r.metadata.redacted).toEqual(['ssn', 'email', 'phone']);
    const clean = await tm.invoke('tool_pre_invoke', call('search', { q: 'no pii here 42' }));
    expect(clean.payloadModified).toBe(false);
  });

  it('only runs the configured detectors', async () => {
    const plugin = piiRedactor({ detect: ['email'] }, { name: 'pii' } as never);
    await using tm = await createTestManager({ plugins: [plugin] });
    const r = await tm.invoke('tool_pre_invoke', call('send', { to: 'x@y.z', phone: '555-123-4567' }));
    expect(r.modifiedPayload).toEqual({ name: 'send', args: { to: '[EMAIL]', phone: '555-123-4567' } });
  });
});

describe('tool-allow-list (sequential)', () => {
  it('allows listed tools and denies the rest with a 403 violation', async () => {
    await using tm = await createTestManager({
      plugins: [new ToolAllowList({ tools: ['search'] }, { name: 'allow-list' })],
    });
    expect((await tm.invoke('tool_pre_invoke', call('search'))).continueProcessing).toBe(true);
    const r = await tm.invoke('tool_pre_invoke', call('rm'));
    expect(r.continueProcessing).toBe(false);
    expect(r.violation).toMatchObject({
      code: 'tool_not_allowed',
      pluginName: 'allow-list',
      httpStatusCode: 403,
      details: { tool: 'rm' },
    });
  });
});

describe('rate-limiter (concurrent)', () => {
  it('denies the call over the limit per user with a retry delay, and frees up as the window slides', async () => {
    const limiter = new RateLimiter({ max_calls: 2, window_seconds: 10 }, { name: 'rl' });
    let now = 1_000_000;
    limiter.now = () => now;
    await using tm = await createTestManager({
      plugins: [{ plugin: limiter, entry: { mode: 'concurrent' } }],
    });
    const as = (user: string) => ({ globalContext: { user } });
    expect((await tm.invoke('tool_pre_invoke', call('a'), as('u1'))).continueProcessing).toBe(true);
    now += 4_000;
    expect((await tm.invoke('tool_pre_invoke', call('a'), as('u1'))).continueProcessing).toBe(true);
    expect((await tm.invoke('tool_pre_invoke', call('a'), as('u2'))).continueProcessing).toBe(true);
    const limited = await tm.invoke('tool_pre_invoke', call('a'), as('u1'));
    expect(limited.violation).toMatchObject({ code: 'rate_limited', httpStatusCode: 429 });
    expect(limited.retryDelayMs).toBe(6_000);
    now += 6_000; // the first call left the window
    expect((await tm.invoke('tool_pre_invoke', call('a'), as('u1'))).continueProcessing).toBe(true);
  });
});

describe('audit-logger (audit)', () => {
  it('records the (already redacted) call and returns its sequence number', async () => {
    const before = auditTrail.length;
    await using tm = await createTestManager({
      plugins: [
        { plugin: piiRedactor(null, { name: 'pii' } as never), entry: { mode: 'transform' } },
        { plugin: auditLogger, entry: { mode: 'audit' } },
      ],
    });
    const r = await tm.invoke('tool_pre_invoke', call('send', { to: 'a@b.cd' }), {
      globalContext: { user: 'zed', requestId: 'r-1' },
    });
    expect(r.metadata.audit_seq).toBe(before + 1);
    expect(auditTrail.at(-1)).toEqual({
      seq: before + 1,
      request_id: 'r-1',
      user: 'zed',
      hook: 'tool_pre_invoke',
      tool: 'send',
    });
  });
});

describe('the quickstart config', () => {
  it('validates and wires every plugin into its phase', async () => {
    await using tm = await createTestManager({ configFile: path.join(root, 'config.yaml') });
    const lineup = tm.manager.lineup('tool_pre_invoke');
    expect(
      Object.fromEntries(Object.entries(lineup).map(([phase, list]) => [phase, list.map((p) => p.name)])),
    ).toEqual({
      sequential: ['tool-allow-list'],
      transform: ['pii-redactor'],
      audit: ['audit-logger'],
      concurrent: ['rate-limiter'],
      fire_and_forget: ['telemetry'],
    });
  });
});
