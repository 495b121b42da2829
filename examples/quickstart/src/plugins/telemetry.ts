// Fire-and-forget phase: runs in the background after the pipeline (also for denied calls) and
// publishes one event per call on a diagnostics channel; the gateway subscribes and counts.
import diagnosticsChannel from 'node:diagnostics_channel';
import { definePlugin } from '@cpex/sdk';

/** Channel the events go to. */
export const TELEMETRY_CHANNEL = 'cpex-quickstart:telemetry';
const channel = diagnosticsChannel.channel(TELEMETRY_CHANNEL);

export interface TelemetryEvent {
  request_id: string;
  tool: string;
  at: number;
}

export default definePlugin({
  name: 'telemetry',
  hooks: {
    async tool_pre_invoke(payload, context) {
      // Pretend to ship the event somewhere slow; the caller never waits for this.
      await new Promise((resolve) => setTimeout(resolve, 5));
      const event: TelemetryEvent = {
        request_id: context.globalContext.requestId,
        tool: String(payload.name),
        at: Date.now(),
      };
      if (channel.hasSubscribers) channel.publish(event);
    },
  },
});
