// The Python 0.1.x extension shapes (moved from @cpex/core: Python-specific code lives in this host).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CpexError, type Extensions } from '@cpex/core';
import {
  compileCapabilities,
  extensionsToJSON,
  extensionsView,
  mergeExtensions,
  parseExtensions,
} from '@cpex/core/extensions';
import { describe, expect, it } from 'vitest';
import { extensionsFromPython, extensionsToPython } from '../src/python-shapes.js';
import { realCpexPython } from './helpers.js';

const rust = JSON.parse(
  readFileSync(new URL('../../core/src/extensions/fixtures/rust-extensions.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const python = JSON.parse(
  readFileSync(new URL('./fixtures/python-extensions.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const cpexPython = realCpexPython();

function runPython(python: string, code: string, input: unknown): unknown {
  return JSON.parse(
    execFileSync(python, ['-c', code], { input: JSON.stringify(input), encoding: 'utf8', timeout: 60_000 }),
  );
}

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

  it.runIf(cpexPython !== undefined)(
    'round-trips through the real pip-installed cpex 0.1.4 Extensions model',
    () => {
      const py = cpexPython!;
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
    },
  );
});
