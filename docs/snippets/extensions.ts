// docs/extensions.md: passing extensions to invoke, and parsing them from JSON.
import type { PluginManager } from '@cpex/core';

declare const manager: PluginManager;
declare const payload: import('@cpex/core/cmf').MessagePayload;
declare const body: string;

// #region invoke
import { MonotonicSet, parseExtensions } from '@cpex/core/extensions';

const result = await manager.invoke('cmf.llm_input', payload, {
  extensions: {
    request: { request_id: 'req-42' },
    security: { labels: MonotonicSet.of('internal'), subject: { id: 'alice', subject_type: 'user', roles: ['dev'] } },
    http: { request_headers: { 'x-tenant': 'acme' }, method: 'POST', path: '/mcp' },
  },
});
result.modifiedExtensions; // the merged extensions, or null when no plugin changed them

// from JSON (a request body, another language): validate and convert labels in one step
const ext = parseExtensions(JSON.parse(body).extensions, 'cmf.llm_input');
// #endregion
