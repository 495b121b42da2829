import { fileURLToPath } from 'node:url';

/** Absolute path of `cpex_plugin.h` (add its directory to your compiler's include path). */
export const HEADER_PATH = fileURLToPath(new URL('../include/cpex_plugin.h', import.meta.url));
