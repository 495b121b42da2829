// docs/hooks.md: the hook registry.
declare const body: unknown;
declare const modified: unknown;

// #region registry
import { HookRegistry } from '@cpex/core';
import { z } from 'zod';

const hooks = new HookRegistry();
hooks.has('cmf.llm_input');                     // true
hooks.get('token.delegate');                     // { name, family: 'delegation', payloadSchema, resultSchema, payloadType, builtin }
hooks.validatePayload('tool_pre_invoke', body);  // parsed value, or CpexError CPEX_ERR_INVALID_PAYLOAD
hooks.validateResult('http_auth_check_permission', modified);
hooks.define('generation_pre_call', { payloadSchema: z.object({ prompt: z.string() }) });
// #endregion
