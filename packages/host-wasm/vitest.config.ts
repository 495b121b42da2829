import { cpexProject } from '../../vitest.shared.js';

export default cpexProject('host-wasm', { testTimeout: 60_000, hookTimeout: 600_000 });
