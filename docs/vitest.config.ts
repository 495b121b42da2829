import { cpexProject } from '../vitest.shared.js';

export default cpexProject('docs', { testTimeout: 300_000 });
