export * from './errors.js';
export * from './allow-list.js';
export {
  registerPrograms,
  programJob,
  PROGRAM_TARGET,
  PROGRAM_METHOD,
  type ProgramsOptions,
} from './program-target.js';
export type { ProgramResult } from './spawn.js';
export { DEFAULT_LIMITS, type OutputLimits } from './output.js';
export { MARKER, parseProtocolLine, type ProtocolMessage, type LogLevel } from './protocol.js';
