import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CpexError } from '../errors/cpex-error.js';
import { MonotonicSet } from './monotonic-set.js';
import { ExtensionsSchema, extensionsToJSON, parseExtensions, SLOT_SCHEMAS } from './schemas.js';
import type { Extensions } from './types.js';

const load = (name: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const rust = load('rust-extensions.json') as Record<string, unknown>;

describe('Rust-shaped JSON round-trips through the zod schemas unchanged', () => {
  for (const [slot, schema] of Object.entries(SLOT_SCHEMAS)) {
    it(`${slot}`, () => {
      expect(rust[slot], `fixture has ${slot}`).toBeDefined();
      const parsed = schema.parse(rust[slot]);
      expect(JSON.parse(JSON.stringify(parsed))).toEqual(rust[slot]);
    });
  }
  it('the whole Extensions object', () => {
    const parsed = parseExtensions(rust);
    expect(parsed.security?.labels).toBeInstanceOf(MonotonicSet);
    expect(extensionsToJSON(parsed)).toEqual(rust);
    expect(JSON.parse(JSON.stringify(ExtensionsSchema.parse(rust)))).toEqual(rust);
  });
  it('extensionsToJSON never puts raw token strings on the wire (unless asked for in-process)', () => {
    const withToken = parseExtensions({
      raw_credentials: {
        inbound_tokens: { user: { token: 'eyJ.secret', source_header: 'Authorization', kind: 'jwt' } },
      },
      custom: { token: 'not-a-credential' },
    });
    const wire = JSON.stringify(extensionsToJSON(withToken));
    expect(wire).not.toContain('eyJ.secret');
    expect(wire).toContain('not-a-credential');
    expect(JSON.stringify(extensionsToJSON(withToken, { includeTokens: true }))).toContain('eyJ.secret');
  });
  it('accepts null for optional fields (Python dumps None as null)', () => {
    const e = parseExtensions({
      request: { request_id: null },
      agent: null,
      security: { subject: { id: 'a', subject_type: null } },
    });
    expect(e.agent).toBeNull();
  });
  it('rejects bad input with CPEX_ERR_INVALID_PAYLOAD naming the field path', () => {
    try {
      parseExtensions({ security: { subject: { id: 'a', subject_type: 'robot' } } }, 'tool_pre_invoke');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CpexError);
      expect((e as CpexError).code).toBe('CPEX_ERR_INVALID_PAYLOAD');
      expect((e as CpexError).message).toContain('extensions.security.subject.subject_type');
      expect((e as CpexError).message).toContain('tool_pre_invoke');
    }
    expect(() => parseExtensions({ delegation: { chain: [{ scopes_granted: ['a'] }] } })).toThrow(
      /delegation\.chain\[0\]\.subject_id/,
    );
    expect(() => parseExtensions({ http: { request_headers: { a: 1 } } })).toThrow(
      /http\.request_headers\.a/,
    );
  });
});
