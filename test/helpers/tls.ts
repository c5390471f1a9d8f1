import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificate {
  certPath: string;
  keyPath: string;
  /** The PEM certificate: self-signed, so it is its own CA. */
  cert: Buffer;
}

/**
 * A self-signed P-256 certificate for localhost and 127.0.0.1, valid for a day, made with
 * openssl at test time so that no key is committed and none expires in the repository.
 */
export async function makeCertificate(dir: string, name: string): Promise<TestCertificate> {
  const certPath = path.join(dir, `${name}.crt`);
  const keyPath = path.join(dir, `${name}.key`);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '1',
    '-subj',
    `/CN=workq-test-${name}`,
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  return { certPath, keyPath, cert: await readFile(certPath) };
}
