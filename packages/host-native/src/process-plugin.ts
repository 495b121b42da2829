import { CpexError, type Extensions, type Logger, type PluginContext } from '@cpex/core/host';
import type { NativeManifest } from './abi.js';

/** Options of one `isolation: process` instance. */
export interface ProcessSpec {
  pluginName: string;
  libraryPath: string;
  config: Record<string, unknown> | null;
  maxPayloadBytes: number;
  maxPayloadDepth: number;
  payloadTypeOf(hook: string): number;
  shutdownTimeoutMs: number;
  timeoutMs: number;
  startTimeoutMs: number;
  maxRestarts: number;
  restartWindowMs: number;
  logger: Logger;
  asyncStackBytes: number | undefined;
}

/** `isolation: process` (not wired yet). */
export class ProcessNative {
  constructor(private readonly spec: ProcessSpec) {}
  async start(): Promise<NativeManifest> {
    throw new CpexError(
      'CPEX_ERR_HOST_UNAVAILABLE',
      `native plugin "${this.spec.pluginName}": isolation: process is not available yet`,
      {
        plugin: this.spec.pluginName,
      },
    );
  }
  async initialize(): Promise<void> {}
  async call(
    _hook: string,
    _payload: unknown,
    _context: PluginContext,
    _extensions: Extensions | undefined,
  ): Promise<unknown> {
    throw new Error('unreachable');
  }
  async shutdown(): Promise<void> {}
}
