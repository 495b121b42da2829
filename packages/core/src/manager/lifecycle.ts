/**
 * The manager's lifecycle: ONE state machine, and one error per state for every operation.
 *
 *   created ──initialize()──▶ initializing ──ok──▶ ready
 *      │                          │  └──error──▶ failed ──initialize()──▶ initializing
 *      └──────────── shutdown() ──┴──────────────────┴─────────────▶ shutting_down ──▶ shut_down
 *
 * `invoke` runs only in `ready`. Anything else gets the error of its state: before or during
 * initialize() and after it failed CPEX_ERR_NOT_INITIALIZED (with the failure as cause); from
 * shutdown() on CPEX_ERR_SHUT_DOWN, for invoke and for every registration or config call alike.
 */
import { CpexError, describeCause } from '../errors/cpex-error.js';

export type LifecycleState = 'created' | 'initializing' | 'ready' | 'failed' | 'shutting_down' | 'shut_down';

const NEXT: Record<LifecycleState, readonly LifecycleState[]> = {
  created: ['initializing', 'shutting_down'],
  initializing: ['ready', 'failed', 'shutting_down'],
  ready: ['shutting_down'],
  failed: ['initializing', 'shutting_down'],
  shutting_down: ['shut_down'],
  shut_down: [],
};

export class Lifecycle {
  #state: LifecycleState = 'created';
  #failure: unknown;

  get state(): LifecycleState {
    return this.#state;
  }

  /** True once shutdown() started: nothing new is accepted. */
  get closed(): boolean {
    return this.#state === 'shutting_down' || this.#state === 'shut_down';
  }

  /** Move to `next`; an illegal transition is a bug in the manager, reported as such. */
  to(next: LifecycleState, failure?: unknown): void {
    if (!NEXT[this.#state].includes(next)) {
      throw new CpexError(
        'CPEX_ERR_INVALID_ARGUMENT',
        `manager lifecycle: cannot go from ${this.#state} to ${next}`,
      );
    }
    this.#state = next;
    this.#failure = next === 'failed' ? failure : undefined;
  }

  /** The error `invoke(hook)` gets in this state, or undefined in `ready`. */
  invokeError(hook: string): CpexError | undefined {
    switch (this.#state) {
      case 'ready':
        return undefined;
      case 'created':
        return new CpexError('CPEX_ERR_NOT_INITIALIZED', `cannot invoke ${hook}: call initialize() first`, {
          hook,
        });
      case 'initializing':
        return new CpexError(
          'CPEX_ERR_NOT_INITIALIZED',
          `cannot invoke ${hook}: initialize() has not finished`,
          {
            hook,
          },
        );
      case 'failed':
        return new CpexError(
          'CPEX_ERR_NOT_INITIALIZED',
          `cannot invoke ${hook}: initialize() failed: ${describeCause(this.#failure)}`,
          { hook, cause: this.#failure },
        );
      case 'shutting_down':
      case 'shut_down':
        return new CpexError('CPEX_ERR_SHUT_DOWN', `cannot invoke ${hook}: the manager was shut down`, {
          hook,
        });
    }
  }

  /** Throws the error a registration/config/initialize call `what` gets in this state (only once closed). */
  assertOpen(what: string): void {
    if (this.closed) throw new CpexError('CPEX_ERR_SHUT_DOWN', `${what}: the manager has been shut down`);
  }
}
