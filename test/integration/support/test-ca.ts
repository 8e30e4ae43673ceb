import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Files of a throwaway CA made with openssl: a server certificate and a client certificate. */
export interface TestCa {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A CA under `dir/name`, a server certificate for `serverIp` (IP SAN, serverAuth) and a client
 * certificate with the clientAuth usage (etcd's --client-cert-auth requires it). Keys are 0600.
 */
export function makeTestCa(dir: string, name: string, serverIp: string): TestCa {
  const root = path.join(dir, name);
  mkdirSync(root, { recursive: true });
  const days = ['-days', '2'];
  /** A new P-256 key, unencrypted, written to `keyFile`. */
  const newKey = (keyFile: string) => [
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    keyFile,
  ];
  openssl(
    ['req', '-x509', ...newKey('ca.key'), '-out', 'ca.pem', '-subj', `/CN=${name} test CA`, ...days],
    root,
  );
  const issue = (who: string, subject: string, extensions: string) => {
    writeFileSync(path.join(root, `${who}.ext`), extensions);
    openssl(['req', ...newKey(`${who}.key`), '-out', `${who}.csr`, '-subj', subject], root);
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${who}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${who}.pem`,
        '-extfile',
        `${who}.ext`,
        ...days,
      ],
      root,
    );
  };
  issue(
    'server',
    `/CN=${serverIp}`,
    `subjectAltName=IP:${serverIp}\nextendedKeyUsage=serverAuth,clientAuth\n`,
  );
  issue('client', '/CN=baton', 'extendedKeyUsage=clientAuth\n');
  return {
    caFile: path.join(root, 'ca.pem'),
    serverCertFile: path.join(root, 'server.pem'),
    serverKeyFile: path.join(root, 'server.key'),
    clientCertFile: path.join(root, 'client.pem'),
    clientKeyFile: path.join(root, 'client.key'),
  };
}
