/** The closed phase table: a phase without a runner does not compile. */
import type { Phase } from '../../types.js';
import { audit } from './audit.js';
import { concurrent } from './concurrent.js';
import { fireAndForget } from './fire-and-forget.js';
import type { PhaseRunner } from './runner.js';
import { sequential } from './sequential.js';
import { transform } from './transform.js';

export type { PhaseRunner };

export const PHASE_RUNNERS: Readonly<Record<Phase, PhaseRunner>> = Object.freeze({
  sequential,
  transform,
  audit,
  concurrent,
  fire_and_forget: fireAndForget,
});
