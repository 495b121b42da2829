import { describe, expect, it } from 'vitest';
import { createTestManager } from './testing/index.js';
import { definePlugin, modify, toMutable } from './index.js';

describe('toMutable: an editable deep copy of a read-only payload view', () => {
  it('lets a plugin edit a copy and return it; the caller payload is untouched (structuredClone of the view fails)', async () => {
    const seen: string[] = [];
    const redactor = definePlugin({
      name: 'redactor',
      hooks: {
        tool_pre_invoke(payload) {
          try {
            structuredClone(payload);
          } catch (e) {
            seen.push((e as Error).name);
          }
          const next = toMutable(payload);
          (next.args as Record<string, unknown>).email = '[REDACTED]';
          return modify(next);
        },
      },
    });
    const tm = await createTestManager({ plugins: [redactor] });
    const input = { name: 'send', args: { email: 'a@b.c', nested: { keep: [1, 2] } } };
    const r = await tm.invoke('tool_pre_invoke', input);
    expect(seen).toEqual(['DataCloneError']);
    expect(r.modifiedPayload).toEqual({
      name: 'send',
      args: { email: '[REDACTED]', nested: { keep: [1, 2] } },
    });
    expect(input.args.email).toBe('a@b.c');
    await tm.shutdown();
  });

  it('preserves cycles and shares non-plain values', () => {
    const d = new Date(0);
    const a: Record<string, unknown> = { d, list: [1, { x: 1 }] };
    a.self = a;
    const c = toMutable(a);
    expect(c).not.toBe(a);
    expect(c.self).toBe(c);
    expect(c.d).toBe(d);
    expect(c.list).toEqual([1, { x: 1 }]);
    expect(c.list).not.toBe(a.list);
  });
});
