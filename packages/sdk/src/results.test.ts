import { describe, expect, it } from 'vitest';
import { allow, deny, modify } from './index.js';

describe('allow / deny / modify', () => {
  it('allow() continues and carries metadata and extras only when given', () => {
    expect(allow()).toEqual({ continueProcessing: true });
    expect(allow({ checked: true }, { retryDelayMs: 5 })).toEqual({
      continueProcessing: true,
      metadata: { checked: true },
      retryDelayMs: 5,
    });
  });

  it('deny(code, reason, extras) builds a halting violation and splits result extras from violation fields', () => {
    const r = deny('tool_not_allowed', 'rm is blocked', {
      description: 'allow-list',
      details: { tool: 'rm' },
      httpStatusCode: 403,
      metadata: { audit: 1 },
    });
    expect(r.continueProcessing).toBe(false);
    expect(r.violation).toEqual({
      code: 'tool_not_allowed',
      reason: 'rm is blocked',
      description: 'allow-list',
      details: { tool: 'rm' },
      httpStatusCode: 403,
    });
    expect(r.metadata).toEqual({ audit: 1 });
  });

  it('deny(violation) strips a self-reported pluginName (the manager sets it)', () => {
    const r = deny({ code: 'x', reason: 'y', pluginName: 'impostor' }, { retryDelayMs: 100 });
    expect(r.violation).toEqual({ code: 'x', reason: 'y' });
    expect(r.retryDelayMs).toBe(100);
    expect(r.continueProcessing).toBe(false);
  });

  it('modify(payload) continues with the new payload', () => {
    const payload = { name: 'search', args: { q: 'a' } };
    const r = modify(payload, { metadata: { redacted: 0 }, modifiedExtensions: { custom: { k: 1 } } });
    expect(r).toEqual({
      continueProcessing: true,
      modifiedPayload: payload,
      metadata: { redacted: 0 },
      modifiedExtensions: { custom: { k: 1 } },
    });
  });
});
