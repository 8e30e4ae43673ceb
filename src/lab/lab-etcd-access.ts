import type { EtcdClientSettings } from '../etcd/client.js';
import { labEtcdUrls } from './etcd-member.js';
import { isSecureLab, labEtcdTls, labTlsFiles } from './lab-security.js';
import type { LabState } from './lab-state.js';
import { etcdPasswordFile, etcdUserName, readEtcdPassword, type LabEtcdUser } from './secrets.js';

/**
 * How a lab tool or the CLI reaches the lab's etcd as `user`: plain endpoints in an open lab;
 * https, the client certificate and the user's password (from its file) in a secure one.
 */
export function labEtcdAccess(
  state: Pick<LabState, 'dir' | 'network' | 'basePort' | 'secure'>,
  user: LabEtcdUser,
): EtcdClientSettings {
  const endpoints = labEtcdUrls(state);
  if (!isSecureLab(state)) return { endpoints };
  return {
    endpoints,
    tls: labEtcdTls(state.dir),
    auth: { username: etcdUserName(user), password: readEtcdPassword(state.dir, user) },
  };
}

/**
 * An etcdctl command line for the operator account; its password comes through ETCDCTL_USER
 * (etcdctl reads "user:password" from it), never the command line.
 */
export function labEtcdctlHint(state: Pick<LabState, 'dir' | 'network' | 'basePort' | 'secure'>): string {
  const endpoints = `--endpoints=${labEtcdUrls(state).join(',')}`;
  if (!isSecureLab(state)) return `etcdctl ${endpoints}`;
  const files = labTlsFiles(state.dir);
  const user = `ETCDCTL_USER="${etcdUserName('operator')}:$(cat ${etcdPasswordFile(state.dir, 'operator')})"`;
  return `${user} etcdctl ${endpoints} --cacert=${files.caFile} --cert=${files.clientCertFile} --key=${files.clientKeyFile}`;
}
