import { cpexProject } from '../../vitest.shared.js';

export default cpexProject('first-plugin');
