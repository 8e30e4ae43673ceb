/**
 * A throwaway certificate authority made with openssl, for `lab up --secure` and the TLS tests:
 * P-256 keys, unencrypted and owner-only, certificates valid for a few days. Only file paths and
 * subjects go on openssl's command line; no key material or password ever does.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LabError } from './errors.js';

export interface CertificateAuthority {
  dir: string;
  caFile: string;
  caKeyFile: string;
}

export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
}

/** What a certificate may be used for: etcd's --client-cert-auth wants clientAuth on clients. */
export type KeyUsage = 'serverAuth' | 'clientAuth';

const VALID_DAYS = '7';

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new LabError(`openssl ${args[0]} failed in ${cwd}: ${stderr || (error as Error).message}`);
  }
}

/** `-newkey` arguments: a new P-256 key, unencrypted, written to `keyFile`. */
function newKey(keyFile: string): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile];
}

export function createCertificateAuthority(dir: string, name: string): CertificateAuthority {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  openssl(
    ['req', '-x509', ...newKey('ca.key'), '-out', 'ca.pem', '-subj', `/CN=${name} CA`, '-days', VALID_DAYS],
    dir,
  );
  chmodSync(path.join(dir, 'ca.key'), 0o600);
  return { dir, caFile: path.join(dir, 'ca.pem'), caKeyFile: path.join(dir, 'ca.key') };
}

/**
 * A certificate signed by `ca` for `commonName`, with the given IP addresses as subject
 * alternative names (what a client verifying the host checks) and extended key usages.
 */
export function issueCertificate(
  ca: CertificateAuthority,
  fileStem: string,
  commonName: string,
  { ips = [], usages }: { ips?: string[]; usages: KeyUsage[] },
): IssuedCertificate {
  const extensions = [
    ...(ips.length > 0 ? [`subjectAltName=${ips.map((ip) => `IP:${ip}`).join(',')}`] : []),
    `extendedKeyUsage=${usages.join(',')}`,
  ];
  writeFileSync(path.join(ca.dir, `${fileStem}.ext`), extensions.join('\n') + '\n');
  openssl(
    ['req', ...newKey(`${fileStem}.key`), '-out', `${fileStem}.csr`, '-subj', `/CN=${commonName}`],
    ca.dir,
  );
  chmodSync(path.join(ca.dir, `${fileStem}.key`), 0o600);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${fileStem}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${fileStem}.pem`,
      '-extfile',
      `${fileStem}.ext`,
      '-days',
      VALID_DAYS,
    ],
    ca.dir,
  );
  return { certFile: path.join(ca.dir, `${fileStem}.pem`), keyFile: path.join(ca.dir, `${fileStem}.key`) };
}
