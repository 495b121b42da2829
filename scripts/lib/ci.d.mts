/** True under CI=true|1|yes (as `is_ci` in scripts/lib/common.sh). */
export function isCI(env?: Record<string, string | undefined>): boolean;
