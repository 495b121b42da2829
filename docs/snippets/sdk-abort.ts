// docs/sdk.md: a host that cancels its own remote work when a call is aborted.
import type { PluginContext } from '@cpex/core';

declare function cancelRemoteCall(id: string, reason: unknown): void;
declare function remoteCall(id: string, payload: unknown): Promise<unknown>;
declare function abortedError(): Error;

export async function call(context: PluginContext, id: string, payload: unknown): Promise<unknown> {
// #region abort
const stop = (reason: unknown) => cancelRemoteCall(id, reason);
const onSignal = () => stop(context.signal.reason);
if (context.onAbort) {
  if (!context.onAbort(stop)) throw abortedError(); // already aborted
} else {
  if (context.signal.aborted) throw abortedError();
  context.signal.addEventListener('abort', onSignal, { once: true });
}
try {
  return await remoteCall(id, payload);
} finally {
  if (context.offAbort) context.offAbort(stop);
  else context.signal.removeEventListener('abort', onSignal);
}
// #endregion
}
