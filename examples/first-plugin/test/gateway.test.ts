// The README's gateway code, run against the example's config (the real executor, the real plugin).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import { startGateway, type Tool } from '../src/gateway.js';

const config = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../config.yaml');

test('the gateway runs allowed tool calls and refuses one that carries a private key', async () => {
  const gateway = await startGateway(config);
  try {
    const calls: Record<string, unknown>[] = [];
    const upload: Tool = async (args) => {
      calls.push(args);
      return { stored: true };
    };
    expect(await gateway.callTool('alice', 'upload', { file: 'a.txt' }, upload)).toEqual({
      ok: true,
      result: { stored: true },
    });
    const denied = await gateway.callTool('alice', 'upload', { key: '-----BEGIN PRIVATE KEY-----' }, upload);
    expect(denied).toMatchObject({
      ok: false,
      violation: { code: 'secret_in_args', pluginName: 'no-secrets' },
    });
    expect(calls).toEqual([{ file: 'a.txt' }]); // the denied call never reached the tool
  } finally {
    await gateway.close();
  }
});
