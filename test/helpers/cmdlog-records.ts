import { RecordType, recordLength, writeRecordCrc, writeRecordHead, HEADER } from '../../src/cmdlog/record.js';
import {
  ID_PAYLOAD_LENGTH,
  jobPayloadLength,
  queuePayloadLength,
  resultPayloadLength,
  retryAtPayloadLength,
  retryDelayPayloadLength,
  touchPayloadLength,
  writeIdPayload,
  writeJobPayload,
  writeQueuePayload,
  writeResultPayload,
  writeRetryAtPayload,
  writeRetryDelayPayload,
  writeTouchPayload,
  type JobFields,
} from '../../src/cmdlog/payload.js';
import type { RestoredJob } from '../../src/jobs/types.js';

export { RecordType, HEADER };

export function jobPayload(type: number, job: JobFields): Buffer {
  const buf = Buffer.alloc(jobPayloadLength(job));
  writeJobPayload(buf, 0, type, job);
  return buf;
}

export function idPayload(type: number, id: string): Buffer {
  const buf = Buffer.alloc(ID_PAYLOAD_LENGTH);
  writeIdPayload(buf, 0, type, id);
  return buf;
}

export function resultPayload(type: number, id: string, result: string): Buffer {
  const buf = Buffer.alloc(resultPayloadLength(result));
  writeResultPayload(buf, 0, type, id, result);
  return buf;
}

export function touchPayload(id: string, ttr: number): Buffer {
  const buf = Buffer.alloc(touchPayloadLength(ttr));
  writeTouchPayload(buf, 0, id, ttr);
  return buf;
}

export function retryAtPayload(id: string, delayMs: number): Buffer {
  const buf = Buffer.alloc(retryAtPayloadLength(delayMs));
  writeRetryAtPayload(buf, 0, id, delayMs);
  return buf;
}

export function retryDelayPayload(id: string, delay: { delayMs: number; maxDelayMs: number; jitterPercent: number }): Buffer {
  const buf = Buffer.alloc(retryDelayPayloadLength(delay));
  writeRetryDelayPayload(buf, 0, id, delay);
  return buf;
}

export function queuePayload(type: number, name: string): Buffer {
  const buf = Buffer.alloc(queuePayloadLength(name));
  writeQueuePayload(buf, 0, type, name);
  return buf;
}

/** A whole record around `payload` with TIME (Unix seconds, nanoseconds). */
export function record(sec: number, nsec: number, payload: Buffer): Buffer {
  const buf = Buffer.alloc(recordLength(payload.length));
  const at = writeRecordHead(buf, 0, sec, nsec, payload.length);
  payload.copy(buf, at);
  writeRecordCrc(buf, 0, at + payload.length);
  return buf;
}

export function segment(...records: Buffer[]): Buffer {
  return Buffer.concat([HEADER, ...records]);
}

export function restoredJob(fields: Partial<RestoredJob> & { id: string }): RestoredJob {
  return {
    name: 'q',
    ttr: 1000,
    ttl: 60_000,
    priority: 0,
    maxAttempts: 0,
    maxFails: 0,
    payload: Buffer.from('p'),
    createdSec: Math.floor(Date.now() / 1000),
    createdNsec: 0,
    timeSec: 0,
    timeNsec: 0,
    ...fields,
  };
}
