export { WorkqClient, connect, DEFAULT_TTR_MS, DEFAULT_TTL_MS, DEFAULT_RUN_TIMEOUT_MS } from './client.js';
export { worker, type Worker, type WorkerOptions, type Handler, type JobContext } from './worker.js';
export { WorkqError, TimeoutError, NotFoundError, ClientError, ServerError, ServerStoppingError, ConnectionError } from './errors.js';
export { serverFor, canonicalId } from './hashing.js';
export type {
  Payload,
  JobStateName,
  ListedState,
  LeasedJob,
  JobResult,
  JobInfo,
  QueueInfo,
  ServerInfo,
  AddOptions,
  RunOptions,
  ServerOption,
  TouchOptions,
  PageOptions,
  ClientOptions,
  TlsOptions,
} from './types.js';
