// The one CI check for TypeScript/JavaScript (tests, bench, scripts); the shell twin is `is_ci` in
// scripts/lib/common.sh. Under CI a missing toolchain is a failure, never a skip.
export function isCI(env = process.env) {
  return ['true', '1', 'yes'].includes(String(env.CI ?? '').toLowerCase());
}
