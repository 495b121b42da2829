export { ERROR_CATALOGUE, MANAGER_VIOLATION_CODES } from './catalogue.js';
export type { CpexErrorCode, ManagerViolationCode } from './catalogue.js';
export {
  CpexError,
  ConfigError,
  PluginViolationError,
  isCpexError,
  describeCause,
  errorLocation,
} from './cpex-error.js';
export type { ConfigIssue, CpexErrorFields } from './cpex-error.js';
