import path from 'node:path';
import { createCertificateAuthority, issueCertificate } from '../../../src/lab/certificate-authority.js';

/** Files of a throwaway CA made with openssl: a server certificate and a client certificate. */
export interface TestCa {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/**
 * A CA under `dir/name`, a server certificate for `serverIp` (IP SAN, serverAuth) and a client
 * certificate with the clientAuth usage (etcd's --client-cert-auth requires it). Keys are 0600.
 */
export function makeTestCa(dir: string, name: string, serverIp: string): TestCa {
  const ca = createCertificateAuthority(path.join(dir, name), `${name} test`);
  const server = issueCertificate(ca, 'server', serverIp, {
    ips: [serverIp],
    usages: ['serverAuth', 'clientAuth'],
  });
  const client = issueCertificate(ca, 'client', 'baton', { usages: ['clientAuth'] });
  return {
    caFile: ca.caFile,
    serverCertFile: server.certFile,
    serverKeyFile: server.keyFile,
    clientCertFile: client.certFile,
    clientKeyFile: client.keyFile,
  };
}
