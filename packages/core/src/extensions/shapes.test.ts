import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CpexError } from '../errors/cpex-error.js';
import { compileCapabilities, extensionsView, mergeExtensions } from './gate.js';
import { MonotonicSet } from './monotonic-set.js';
import { extensionsFromPython, extensionsToPython } from './python-shapes.js';
import { pythonAvailable, requirePython, runPython } from './python-env.test-util.js';
import { ExtensionsSchema, extensionsToJSON, parseExtensions, SLOT_SCHEMAS } from './schemas.js';
import type { Extensions } from './types.js';

const load = (name: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const rust = load('rust-extensions.json') as Record<string, unknown>;
const python = load('python-extensions.json') as Record<string, unknown>;

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

describe('Python cpex 0.1.x shapes (documented mapping)', () => {
  const ext = parseExtensions(rust);

  it('extensionsToPython produces the documented Python shapes', () => {
    expect(extensionsToPython(ext)).toEqual(python);
  });

  it('extensionsFromPython restores the Rust shapes, reusing the sent objects where unchanged', () => {
    const back = extensionsFromPython(python, ext);
    expect(extensionsToJSON(back)).toEqual(rust);
    for (const slot of Object.keys(rust) as (keyof Extensions)[]) expect(back[slot], slot).toBe(ext[slot]);
  });

  it('without a base, maps Python field names to Rust ones', () => {
    const back = extensionsFromPython(python);
    expect(back.http).toEqual({
      request_headers: { 'content-type': 'application/json', 'x-tenant': 'acme' },
    });
    expect(back.security?.subject?.subject_type).toBe('user');
    expect([...(back.security?.labels ?? [])]).toEqual(['CONFIDENTIAL', 'internal']);
    expect(back.raw_credentials).toBeUndefined();
  });

  it('a Python-side change comes back as a change the merge can judge', () => {
    const caps = compileCapabilities(['append_labels', 'write_headers']);
    const view = extensionsView(ext, caps)!;
    // biome-ignore lint/suspicious/noExplicitAny: test data poked at on purpose
    const sent = extensionsToPython(view) as any;
    const edited = {
      ...sent,
      security: { ...sent.security, labels: [...sent.security.labels, 'PII'] },
      http: { headers: { ...sent.http.headers, 'x-scrubbed': '1' } },
    };
    const out = mergeExtensions(ext, view, extensionsFromPython(edited, view), caps);
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.value.security?.labels?.has('pii')).toBe(true);
    expect(out.value.http?.request_headers?.['x-scrubbed']).toBe('1');
    expect(out.value.http?.response_headers).toEqual({ 'x-served-by': 'gw-1' }); // Python cannot see it; kept
    // a removal in Python is still a removal
    const removed = { ...sent, security: { ...sent.security, labels: ['internal'] } };
    const bad = mergeExtensions(ext, view, extensionsFromPython(removed, view), caps);
    expect(bad.ok).toBe(false);
  });

  it('rejects malformed Python output with a coded error naming the field', () => {
    expect(() => extensionsFromPython({ security: { labels: 'PII' } })).toThrow(/security\.labels/);
    expect(() => extensionsFromPython({ http: { headers: { a: 1 } } })).toThrow(CpexError);
    expect(() => extensionsFromPython([])).toThrow(/extensions must be an object/);
  });

  it.runIf(pythonAvailable)('round-trips through the real pip-installed cpex 0.1.4 Extensions model', () => {
    const py = requirePython();
    // one interpreter for both documents: the full extensions and a capability-filtered view
    const code = [
      'import json, sys',
      'from cpex.framework.extensions.extensions import Extensions',
      'docs = json.load(sys.stdin)',
      'out = [Extensions.model_validate(d) for d in docs]',
      '# what a Python plugin does: add a label, or (wrongly) drop one, on the frozen models',
      's = out[1].security',
      'out.append(out[1].model_copy(update={"security": s.model_copy(update={"labels": s.labels | {"PII"}})}))',
      'out.append(out[1].model_copy(update={"security": s.model_copy(update={"labels": frozenset({"internal"})})}))',
      'print(json.dumps([json.loads(e.model_dump_json()) for e in out]))',
    ].join('\n');
    const caps = compileCapabilities(['read_labels']);
    const view = extensionsView(ext, caps)!;
    const [dumped, dumpedView, added, removed] = runPython(py, code, [
      extensionsToPython(ext),
      extensionsToPython(view),
    ]) as Record<string, unknown>[];
    // a real Python edit goes through the same merge: an append needs append_labels, a removal never passes
    const appendCaps = compileCapabilities(['append_labels']);
    const appendView = extensionsView(ext, appendCaps)!;
    const appended = mergeExtensions(ext, appendView, extensionsFromPython(added, appendView), appendCaps);
    expect(appended.ok && [...(appended.value.security?.labels ?? [])]).toEqual([
      'CONFIDENTIAL',
      'internal',
      'PII',
    ]);
    expect(mergeExtensions(ext, view, extensionsFromPython(added, view), caps).ok).toBe(false);
    const dropped = mergeExtensions(ext, appendView, extensionsFromPython(removed, appendView), appendCaps);
    expect(dropped.ok === false && dropped.message).toContain('CONFIDENTIAL');
    // Python filled its defaults (nulls, empty collections) and may reorder sets
    expect((dumped!.http as { headers: unknown }).headers).toEqual({
      'content-type': 'application/json',
      'x-tenant': 'acme',
    });
    const back = extensionsFromPython(dumped, ext);
    for (const slot of Object.keys(rust) as (keyof Extensions)[]) expect(back[slot], slot).toBe(ext[slot]);
    // and for a capability-filtered view, nothing hidden appears and the merge sees "unchanged"
    const viewBack = extensionsFromPython(dumpedView, view);
    const merged = mergeExtensions(ext, view, viewBack, caps);
    expect(merged.ok && merged.value).toBe(ext);
  });
});
