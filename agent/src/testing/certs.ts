// Test helper: real certificates from openssl, and their pins computed by openssl too, so the
// agent's own pin arithmetic is checked against an independent implementation.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp.ts';

export interface TestCert {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  /** base64 SHA-256 of the SubjectPublicKeyInfo, as openssl computes it. */
  pin: string;
}

/** A self-signed P-256 certificate for 127.0.0.1 (and localhost) in `dir`. */
export function makeCert(dir: string, name: string): TestCert {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  const spki = execFileSync('openssl', ['pkey', '-in', keyFile, '-pubout', '-outform', 'DER']);
  const pin = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: spki }).toString('base64');
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile), pin };
}

/** Two servers' certificates, A and B, in a fresh temporary folder (`dir`) that `cleanup` removes. */
export interface ServerCerts { a: TestCert; b: TestCert; dir: string; cleanup(): void }
export function makeServerCerts(prefix: string): ServerCerts {
  const tmp = tempDir(prefix);
  return { a: makeCert(tmp.dir, 'server-a'), b: makeCert(tmp.dir, 'server-b'), ...tmp };
}
