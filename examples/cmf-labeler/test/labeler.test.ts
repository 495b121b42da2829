import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PluginManager } from '@cpex/core';
import type { MessagePayload } from '@cpex/core/cmf';
import { labelsOf } from '@cpex/core/extensions';
import { afterEach, describe, expect, it } from 'vitest';
import guard from '../src/guard.js';
import labeler, { detect } from '../src/labeler.js';
import { run } from '../src/main.js';
import { SAMPLES } from '../src/samples.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const managers: PluginManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.shutdown();
});

async function fromConfig(): Promise<PluginManager> {
  const m = new PluginManager();
  managers.push(m);
  await m.loadConfig(path.resolve(here, '../config.yaml'));
  await m.initialize();
  return m;
}

const text = (t: string): MessagePayload => ({
  message: { role: 'user', content: [{ content_type: 'text', text: t }] },
});

describe('cmf-labeler example through a real PluginManager', () => {
  it('labels PII and the guard blocks it for an external provider (config.yaml, node:// plugins)', async () => {
    const m = await fromConfig();
    const ext = { llm: { provider: 'openai' } };
    const r = await m.invoke('cmf.llm_input', text('mail bob@example.com'), { extensions: ext });
    expect(r.continueProcessing).toBe(false);
    expect(r.violation?.code).toBe('pii_egress');
    expect(r.violation?.pluginName).toBe('pii-egress-guard');
    expect(r.metadata.pii_findings).toEqual([{ part: 0, kind: 'text', pii: ['email'] }]);
    // the caller's extensions are untouched; the labelled copy is the pipeline's
    expect(labelsOf(ext).size).toBe(0);
  });

  it('returns the label to the caller when the provider is trusted, and finds PII in tool-call arguments', async () => {
    const m = await fromConfig();
    const payload: MessagePayload = {
      message: {
        role: 'assistant',
        content: [
          {
            content_type: 'tool_call',
            content: { tool_call_id: 'c', name: 'sms', arguments: { to: '555-123-4567' } },
          },
        ],
      },
    };
    const r = await m.invoke('cmf.llm_input', payload, { extensions: { llm: { provider: 'internal' } } });
    expect(r.continueProcessing).toBe(true);
    expect([...labelsOf(r.modifiedExtensions)]).toEqual(['PII']);
  });

  it('clean input: no label, no copy of the extensions', async () => {
    const m = await fromConfig();
    const ext = { llm: { provider: 'openai' } };
    const r = await m.invoke('cmf.llm_input', text('capital of Portugal?'), { extensions: ext });
    expect(r.continueProcessing).toBe(true);
    expect(r.modifiedExtensions === null || r.modifiedExtensions === ext).toBe(true);
  });

  it('without append_labels the label edit is rejected as an extension_violation, never applied', async () => {
    const m = new PluginManager();
    managers.push(m);
    m.register(labeler, { capabilities: ['read_labels'], onError: 'ignore', priority: 10 });
    m.register(guard, { capabilities: ['read_labels'], priority: 20 });
    await m.initialize();
    const r = await m.invoke('cmf.llm_input', text('ssn 123-45-6789'), {
      extensions: { llm: { provider: 'openai' } },
    });
    expect(r.errors.map((e) => [e.pluginName, e.code])).toEqual([['cmf-labeler', 'extension_violation']]);
    expect(r.errors[0]?.message).toContain('append_labels');
    expect(r.continueProcessing).toBe(true); // nothing labelled, so the guard let it through
  });

  it('detects the three PII kinds', () => {
    expect(detect('a@b.io, 555-123-4567, 123-45-6789').sort()).toEqual(['email', 'phone', 'ssn']);
    expect(detect('nothing here')).toEqual([]);
  });

  it('the demo prints one decision per sample', async () => {
    const lines: string[] = [];
    await run((l) => lines.push(l));
    expect(lines).toHaveLength(SAMPLES.length);
    expect(lines[1]).toMatch(/deny \(pii_egress/);
    expect(lines[2]).toMatch(/allow; labels \[PII\]/);
  });
});
