/**
 * The manager's side of the executor's `Engine` (executor/pipeline.ts): what an invocation needs
 * from its manager, and the counters of invocations in flight that shutdown() and hot reload wait on.
 *
 * A class, not an object literal: every manager's engine then has one hidden class and the
 * executor's calls into it (`settings`, `nextInvocationId`, `invocationStarted/Finished`) one
 * target each, whatever managers exist. As a literal with a getter and arrow functions, each
 * manager's engine had a hidden class and call targets of its own, and the optimized invoke path
 * deoptimized ("wrong call target") as soon as a second manager ran — a gateway running several
 * managers, or the bench running its workloads one after another, kept the slower code.
 */
import { CallPool } from '../executor/call.js';
import type { Engine } from '../executor/pipeline.js';
import { BackgroundTracker } from '../executor/phases/fire-and-forget.js';
import type { Registration } from '../executor/registration.js';
import type { PayloadAcceptor } from '../executor/results.js';
import { Watchdog } from '../executor/watchdog.js';
import type { Generation } from '../reload/reloader.js';
import type { Logger } from '../types.js';
import type { ConfigState } from './config-state.js';

export class ManagerEngine implements Engine {
  readonly owner: object;
  readonly watchdog = new Watchdog();
  readonly logger: Logger;
  readonly policies: Engine['policies'];
  readonly accept: PayloadAcceptor;
  readonly background = new BackgroundTracker();
  readonly calls = new CallPool();
  /** Invocations in flight, and who waits for them to reach zero (shutdown). */
  inflight = 0;
  readonly idleWaiters: Array<() => void> = [];
  /** Invocations of the current active lineup (hot reload retires a lineup once its generation drains). */
  gen: Generation = { inflight: 0, onDrained: undefined };
  /** Set while a session invoke starts on the generation it reserved before its store round trip. */
  startGen: Generation | undefined = undefined;
  readonly #cfg: ConfigState;
  readonly #disabledNames: Set<string>;
  #invocations = 0;

  constructor(
    owner: object,
    cfg: ConfigState,
    logger: Logger,
    accept: PayloadAcceptor,
    disabledNames: Set<string>,
  ) {
    this.owner = owner;
    this.#cfg = cfg;
    this.logger = logger;
    this.policies = cfg.policies;
    this.accept = accept;
    this.#disabledNames = disabledNames;
  }

  get settings(): Engine['settings'] {
    return this.#cfg.settings;
  }

  nextInvocationId(): number {
    return ++this.#invocations;
  }

  invocationStarted(): unknown {
    this.inflight++;
    const g = this.startGen ?? this.gen;
    g.inflight++;
    return g;
  }

  invocationFinished(token: unknown): void {
    const g = token as Generation;
    if (--g.inflight === 0) g.onDrained?.();
    if (--this.inflight === 0 && this.idleWaiters.length > 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  onDisabled(reg: Registration, reason: string): void {
    this.#disabledNames.add(reg.name);
    this.logger.warn(`plugin ${reg.name} disabled after an error (on_error: disable): ${reason}`, {
      plugin: reg.name,
    });
  }
}
