export { openCommandLog, type ResumeOptions } from './command-log.js';
export { LogPreRead, preReadCommandLog } from './pre-read.js';
export { CmdlogCorruptError, CmdlogMissingSegmentsError, CmdlogRefusalCode, CmdlogRefusalError, isCmdlogRefusal } from './errors.js';
export { nodeFileSystem } from './node-fs.js';
export type { CommandLog, CommandLogOptions, LogFileSystem, SyncPolicy } from './types.js';
export { LogStats, ReplayProgress } from './log-stats.js';
