import { cpexProject } from '../vitest.shared.js';

export default cpexProject('conformance', { testTimeout: 120_000 });
