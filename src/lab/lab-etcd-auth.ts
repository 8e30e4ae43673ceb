/**
 * A secure lab's etcd accounts, made the way an operator makes them in production: by
 * deploy/etcd/setup-rbac.sh, over TLS with the lab's client certificate, every password from its
 * owner-only file (none on any command line). The lab keeps etcd's root for its own upkeep.
 */
import { fileURLToPath } from 'node:url';
import { LabError } from './errors.js';
import { labEtcdUrls } from './etcd-member.js';
import { labTlsFiles } from './lab-security.js';
import type { LabState } from './lab-state.js';
import { runCommand } from './run-command.js';
import { LAB_CLUSTER } from './topology.js';
import { LAB_ETCD_USERS, etcdPasswordFile } from './secrets.js';

export const SETUP_RBAC_SCRIPT = fileURLToPath(new URL('../../deploy/etcd/setup-rbac.sh', import.meta.url));

export async function setUpLabEtcdAuth(state: LabState): Promise<void> {
  const files = labTlsFiles(state.dir);
  const argv = [
    SETUP_RBAC_SCRIPT,
    '--cluster',
    LAB_CLUSTER,
    '--endpoints',
    labEtcdUrls(state).join(','),
    '--cacert',
    files.caFile,
    '--cert',
    files.clientCertFile,
    '--key',
    files.clientKeyFile,
    ...LAB_ETCD_USERS.flatMap((user) => [`--${user}-password-file`, etcdPasswordFile(state.dir, user)]),
  ];
  const result = await runCommand(argv, 60_000, '');
  if (result.code !== 0) {
    throw new LabError(`etcd RBAC setup failed (exit ${result.code}): ${result.stderr.trim()}`);
  }
}
