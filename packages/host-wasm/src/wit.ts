import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Version of our cpex:plugin WIT files (carried outside the package name; see wit/README.md). */
export const WORLD_VERSION = '1.0.0';

/** Directory of the published WIT files (`world.wit` + `deps/`), for bindings generators. */
export const WIT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'wit');
