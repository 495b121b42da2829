// examples/python-plugin: the Python cpex plugins and config the quickstart gateway runs with
// `pnpm demo --config examples/python-plugin/config.yaml`, loaded here the same way.
import { fileURLToPath } from 'node:url';
import { PluginManager } from '@cpex/core';
import { registerPythonHost } from '@cpex/host-python';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger, gc, realCpexPython, shimPython } from './helpers.js';

const CONFIG = fileURLToPath(new URL('../../../examples/python-plugin/config.yaml', import.meta.url));
const python = realCpexPython() ?? shimPython();

describe.skipIf(!python)('examples/python-plugin through a PluginManager', () => {
  const manager = new PluginManager({ logger: captureLogger() });
  beforeAll(async () => {
    registerPythonHost(manager, { python: python! });
    await manager.loadConfig(CONFIG);
    await manager.initialize();
  });
  afterAll(() => manager.shutdown());

  it('the @hook deny-list blocks a listed tool with its violation', async () => {
    const r = await manager.invoke(
      'tool_pre_invoke',
      { name: 'shell_exec', args: { cmd: 'rm -rf /' } },
      { globalContext: gc() },
    );
    expect(r.continueProcessing).toBe(false);
    expect(r.violation).toMatchObject({ code: 'TOOL_DENIED', pluginName: 'python-deny-list' });
  });

  it('the PII guard redacts arguments and results', async () => {
    const pre = await manager.invoke(
      'tool_pre_invoke',
      { name: 'send_email', args: { to: 'bob@example.com', body: 'call 555-123-4567' } },
      { globalContext: gc() },
    );
    expect(pre.modifiedPayload).toEqual({
      name: 'send_email',
      args: { to: '[EMAIL]', body: 'call [PHONE]' },
    });
    expect(pre.metadata).toMatchObject({ redacted: ['email', 'phone'], deny_list_checked: 'send_email' });
    const post = await manager.invoke(
      'tool_post_invoke',
      { name: 'get_user', result: { ssn: '123-45-6789' } },
      { globalContext: gc() },
    );
    expect(post.modifiedPayload).toEqual({ name: 'get_user', result: { ssn: '[SSN]' } });
  });
});
