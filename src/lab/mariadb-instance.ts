import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { runCommand } from './run-command.js';
import type { LabNodeSpec } from './topology.js';
import { LabError } from './errors.js';
import { executable } from './preflight.js';

/** Where one MariaDB instance keeps everything: nothing is shared, not even tmpdir. */
export interface MariadbPaths {
  root: string;
  data: string;
  tmp: string;
  config: string;
  socket: string;
  log: string;
}

export function mariadbPaths(labDir: string, node: string): MariadbPaths {
  const root = path.join(labDir, node);
  return {
    root,
    data: path.join(root, 'data'),
    tmp: path.join(root, 'tmp'),
    config: path.join(root, 'my.cnf'),
    socket: path.join(root, 'mysqld.sock'),
    log: path.join(root, 'mariadbd.log'),
  };
}

/**
 * `lab up --semi-sync` (measured on 10.11.19, DESIGN.md "Semi-synchronous replication"):
 * - every master waits for its colo's replica to ACK after syncing its binlog (AFTER_SYNC), at
 *   most 1 s. The timeout
 *   must end well inside a watchdog hold (about 2.6 s of the lab's 4 s TTL) less its 1 s tick: a
 *   commit waiting for an ACK blocks SET GLOBAL read_only=ON, so a longer one keeps a writer open
 *   past its hold (measured: a write acknowledged 3.5 s late with 6 s).
 * - only the replicas ACK (a1 waits for a2, b1 for b2). Co-masters that ACKed each other made a
 *   standby's applier wait a WAN round trip per transaction (its binlog writes wait for ACKs
 *   too): a returning a1 caught up at 22 transactions/s across 30 ms (measured);
 * - every server starts in the replica role (init-rpl-role=SLAVE, MDEV-33465): crash recovery
 *   then truncates a binlog tail no replica ACKed, so a crashed writer comes back without
 *   transactions no client saw committed (13 of 13 runs) instead of holding errant ones.
 */
function semiSyncConfig(node: LabNodeSpec): string[] {
  const side =
    node.role === 'master'
      ? [
          'rpl_semi_sync_master_enabled=ON',
          'rpl_semi_sync_master_wait_point=AFTER_SYNC',
          'rpl_semi_sync_master_timeout=1000',
        ]
      : ['rpl_semi_sync_slave_enabled=ON'];
  return [...side, 'init-rpl-role=SLAVE'];
}

/**
 * The storage options, the same on every server: a datadir is initialized with them (the redo
 * log's size is fixed at install), which is why one initialized datadir serves every server
 * (datadir-cache.ts).
 */
export const INSTALL_OPTIONS: readonly string[] = [
  'innodb_buffer_pool_size=32M',
  'innodb_log_file_size=16M',
  'innodb_flush_log_at_trx_commit=2',
  'performance_schema=OFF',
  'key_buffer_size=1M',
];

function configText(lines: string[]): string {
  return lines.filter((l, i) => l !== '' || i === lines.length - 1).join('\n');
}

/** The section's head both configs share; makes the directories it names. */
function serverSection(paths: MariadbPaths, runAsRoot: boolean): string[] {
  mkdirSync(paths.data, { recursive: true });
  mkdirSync(paths.tmp, { recursive: true });
  return ['[mariadbd]', runAsRoot ? 'user=root' : '', `datadir=${paths.data}`, `tmpdir=${paths.tmp}`];
}

/** What mariadb-install-db runs with: where to write, and the storage options. */
export function writeInstallConfig(paths: MariadbPaths, runAsRoot: boolean): void {
  const lines = [...serverSection(paths, runAsRoot), `log-error=${paths.log}`, ...INSTALL_OPTIONS, ''];
  writeFileSync(paths.config, configText(lines));
}

/**
 * read_only=ON is in every server's config, so a master restarted after a crash never takes
 * writes on its own: only the coordinator (or the lab's first bootstrap) opens one.
 */
export function writeMariadbConfig(
  node: LabNodeSpec,
  paths: MariadbPaths,
  bindAddress: string,
  port: number,
  runAsRoot: boolean,
  semiSync = false,
  tlsLines: string[] = [],
): void {
  const lines = [
    ...serverSection(paths, runAsRoot),
    `socket=${paths.socket}`,
    `pid-file=${path.join(paths.root, 'mysqld.pid')}`,
    `log-error=${paths.log}`,
    `bind-address=${bindAddress}`,
    `port=${port}`,
    `server_id=${node.serverId}`,
    `gtid_domain_id=${node.gtidDomainId}`,
    'gtid_strict_mode=ON',
    'log_bin=binlog',
    'log_slave_updates=ON',
    'binlog_format=ROW',
    'auto_increment_increment=2',
    `auto_increment_offset=${node.autoIncrementOffset}`,
    'read_only=ON',
    // The watchdog event (src/mysql/watchdog.ts) runs only with the scheduler on.
    'event_scheduler=ON',
    'skip-name-resolve',
    // Replicas notice a hung source within seconds, not the default minute.
    'slave_net_timeout=4',
    ...INSTALL_OPTIONS,
    'sync_binlog=0',
    'max_connections=200',
    ...(semiSync ? semiSyncConfig(node) : []),
    ...tlsLines,
    '',
  ];
  writeFileSync(paths.config, configText(lines));
}

/** mariadb-install-db's arguments after `--defaults-file` (the datadir cache's key holds them). */
export function installArgs(runAsRoot: boolean): string[] {
  return [
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
    ...(runAsRoot ? ['--user=root'] : []),
  ];
}

export async function installMariadb(paths: MariadbPaths, runAsRoot: boolean): Promise<void> {
  const argv = [
    executable('mariadb-install-db'),
    `--defaults-file=${paths.config}`,
    ...installArgs(runAsRoot),
  ];
  const result = await runCommand(argv, 60_000);
  if (result.code !== 0) {
    throw new LabError(
      `mariadb-install-db failed for ${paths.root} (exit ${result.code}): ${result.stderr.trim()}`,
    );
  }
}

export function mariadbdArgv(paths: MariadbPaths): string[] {
  return [executable('mariadbd'), `--defaults-file=${paths.config}`];
}

/** Root over the instance's unix socket: only the lab's own bootstrap uses it. */
export async function connectAsRoot(paths: MariadbPaths): Promise<mysql.Connection> {
  return mysql.createConnection({
    socketPath: paths.socket,
    user: 'root',
    connectTimeout: 2_000,
    multipleStatements: true,
  });
}

export async function waitForMariadb(paths: MariadbPaths, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const conn = await connectAsRoot(paths);
      await conn.end();
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new LabError(
    `MariaDB in ${paths.root} did not accept connections within ${timeoutMs} ms (${String(lastError)}); see ${paths.log}`,
  );
}
