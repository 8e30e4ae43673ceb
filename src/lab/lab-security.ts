/**
 * `lab up --secure`: the lab as a production network would run it. One certificate authority
 * per lab; each site's certificate (IP SAN: the site's address) serves its etcd member (client
 * and peer traffic) and its MariaDB servers; one client certificate (clientAuth) is what
 * coordinators, the CLI and the lab's own tools present to etcd's --client-cert-auth.
 *
 * The client certificate's common name is deliberately no etcd user: with --client-cert-auth,
 * etcd 3.4 takes a certificate's CN as the user name when a call carries no password token
 * (measured: a certificate with CN=root acted as root). Every baton client sends a token, and
 * the token's user wins over the certificate's CN.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { EtcdClientSettings } from '../etcd/client.js';
import { createCertificateAuthority, issueCertificate } from './certificate-authority.js';
import type { LabState } from './lab-state.js';
import { proxyAddress, siteAddress, type LabNetwork } from './network.js';
import { SITES, type SiteName } from './topology.js';

export interface LabTlsFiles {
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  siteCertFile(site: SiteName): string;
  siteKeyFile(site: SiteName): string;
}

/** Common name of the lab's client certificate: not an etcd user (see above). */
export const LAB_CLIENT_CERT_NAME = 'baton-lab-client';

export function labTlsFiles(labDir: string): LabTlsFiles {
  const dir = path.join(labDir, 'tls');
  return {
    caFile: path.join(dir, 'ca.pem'),
    clientCertFile: path.join(dir, 'client.pem'),
    clientKeyFile: path.join(dir, 'client.key'),
    siteCertFile: (site) => path.join(dir, `site-${site}.pem`),
    siteKeyFile: (site) => path.join(dir, `site-${site}.key`),
  };
}

export function createLabCertificates(labDir: string, net: LabNetwork): LabTlsFiles {
  const files = labTlsFiles(labDir);
  const ca = createCertificateAuthority(path.dirname(files.caFile), `baton lab ${path.basename(labDir)}`);
  for (const site of SITES) {
    const address = siteAddress(net, site);
    // The WAN proxy's address too: cross-site connections reach a member from it (the proxy
    // rewrites their source, as a NAT would), and etcd's --peer-client-cert-auth checks that a
    // peer's certificate names the address it connects from.
    const ips = net.mode === 'netns' ? [address, proxyAddress(net)] : [address];
    // clientAuth too: an etcd member presents it to its peers.
    issueCertificate(ca, `site-${site}`, address, { ips, usages: ['serverAuth', 'clientAuth'] });
  }
  issueCertificate(ca, 'client', LAB_CLIENT_CERT_NAME, { usages: ['clientAuth'] });
  return files;
}

export function isSecureLab(state: Pick<LabState, 'secure'>): boolean {
  return state.secure === true;
}

/** The PEM contents the etcd client of a secure lab presents and trusts. */
export function labEtcdTls(labDir: string): NonNullable<EtcdClientSettings['tls']> {
  const files = labTlsFiles(labDir);
  return {
    ca: readFileSync(files.caFile),
    cert: readFileSync(files.clientCertFile),
    key: readFileSync(files.clientKeyFile),
  };
}

/** my.cnf lines: the site's certificate for every MariaDB server there. */
export function mariadbTlsConfigLines(labDir: string, site: SiteName): string[] {
  const files = labTlsFiles(labDir);
  return [
    `ssl_ca=${files.caFile}`,
    `ssl_cert=${files.siteCertFile(site)}`,
    `ssl_key=${files.siteKeyFile(site)}`,
  ];
}

/**
 * What a lab tool's MySQL connection needs in a secure lab (baton's and the replication account
 * require TLS): the lab CA, the server checked against it. undefined in an open lab.
 */
export function labMysqlSsl(
  state: Pick<LabState, 'dir' | 'secure'>,
): { ca: Buffer; rejectUnauthorized: true } | undefined {
  if (!isSecureLab(state)) return undefined;
  return { ca: readFileSync(labTlsFiles(state.dir).caFile), rejectUnauthorized: true };
}
