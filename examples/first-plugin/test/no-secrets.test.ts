import { createTestManager } from '@cpex/sdk/testing';
import { expect, test } from 'vitest';
import noSecrets from '../src/no-secrets.js';

test('denies a tool call that carries a private key', async () => {
  await using tm = await createTestManager({ plugins: [noSecrets] });
  const r = await tm.invoke('tool_pre_invoke', {
    name: 'upload',
    args: { key: '-----BEGIN PRIVATE KEY-----' },
  });
  expect(r.violation?.code).toBe('secret_in_args');
  const ok = await tm.invoke('tool_pre_invoke', { name: 'upload', args: { key: 'public' } });
  expect(ok.continueProcessing).toBe(true);
});
