// docs/sdk.md: the answers a handler gives.
import { allow, deny, modify } from '@cpex/sdk';
import type { ToolPreInvokePayload } from '@cpex/core';

declare const payload: ToolPreInvokePayload;

// #region results
allow();                                        // { continueProcessing: true }
allow({ checked_by: 'allow-list' });            // + metadata, merged into the pipeline result
deny('rate_limited', 'too many calls', { httpStatusCode: 429, retryDelayMs: 30_000 });
deny({ code: 'x', reason: 'y', details: { field: 'args.q' } });
modify({ ...payload, name: 'search_v2' }, { metadata: { rerouted: true } });
// #endregion
