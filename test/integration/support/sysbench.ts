import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LabStatus } from '../../../src/lab/lab-status.js';
import { asRoot, type Lab } from './lab.js';

const TABLE_SIZE = 1_000;

/**
 * sysbench's sbtest1, made as root on the writer (the app user may not CREATE) and replicated
 * everywhere; oltp_write_only then runs as the app user.
 */
export async function prepareSysbenchTable(lab: Lab, writer: string): Promise<void> {
  await asRoot(
    lab,
    writer,
    'USE app; CREATE TABLE IF NOT EXISTS app.sbtest1 (id INT NOT NULL AUTO_INCREMENT, k INT NOT NULL DEFAULT 0, ' +
      "c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', PRIMARY KEY (id), KEY k_1 (k)); " +
      `INSERT INTO app.sbtest1 (k, c, pad) SELECT seq % 1000, CONCAT('c', seq), CONCAT('p', seq) FROM seq_1_to_${TABLE_SIZE}`,
  );
}

export interface SysbenchResult {
  /** Committed transactions over every run (a run that ended on a lost connection: its per-second reports). */
  transactions: number;
  ignoredErrors: number;
  /** Times sysbench was started again after a lost connection. */
  restarts: number;
  summary: string;
}

/**
 * Errors a client of a moving writer sees and goes on after: read-only (1290), deadlock and lock
 * wait (1213, 1205), duplicate key from a retried insert (1062), query interrupted (1317).
 * Lost connections are not in the list: sysbench 1.0.20 linked against libmariadb cannot
 * reconnect (it reuses a closed handle: akopytov/sysbench#527; with `all` it segfaulted here), so
 * a run ends on a lost connection and is started again for the time left, as a pool would.
 */
const IGNORED_ERRORS = '1290,1213,1205,1062,1317,1020';

/**
 * `sysbench oltp_write_only` through HAProxy's write port for `seconds`. The password goes in a
 * 0600 options file, never in argv.
 */
export async function runSysbenchWriteOnly(
  lab: Lab,
  status: LabStatus,
  seconds: number,
): Promise<SysbenchResult> {
  const route = status.haproxy?.write;
  if (!route) throw new Error('the lab runs no HAProxy (lab up --haproxy)');
  // In the lab's secrets directory: mode 0700, removed by lab down.
  const options = path.join(lab.dir, 'secrets', 'sysbench.options');
  writeFileSync(
    options,
    [
      `mysql-host=${route.host}`,
      `mysql-port=${route.port}`,
      `mysql-user=${status.users.app.user}`,
      `mysql-password=${status.users.app.password}`,
      'mysql-db=app',
      `mysql-ignore-errors=${IGNORED_ERRORS}`,
      'db-ps-mode=disable',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const endAt = Date.now() + seconds * 1_000;
  let transactions = 0;
  let ignoredErrors = 0;
  let restarts = -1;
  while (Date.now() < endAt - 500) {
    restarts++;
    const time = Math.max(1, Math.round((endAt - Date.now()) / 1_000));
    const out = await sysbenchRun(options, time);
    const total = /transactions:\s+(\d+)/.exec(out);
    transactions += total
      ? Number(total[1])
      : [...out.matchAll(/tps: ([\d.]+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    ignoredErrors += Number(/ignored errors:\s+(\d+)/.exec(out)?.[1] ?? 0);
  }
  transactions = Math.round(transactions);
  return {
    transactions,
    ignoredErrors,
    restarts,
    summary: `${transactions} transactions, ${ignoredErrors} ignored errors, ${restarts} restarts after a lost connection in ${seconds} s`,
  };
}

function sysbenchRun(options: string, seconds: number): Promise<string> {
  const argv = [
    `--config-file=${options}`,
    'oltp_write_only',
    '--tables=1',
    `--table_size=${TABLE_SIZE}`,
    '--threads=4',
    '--report-interval=1',
    `--time=${seconds}`,
    'run',
  ];
  return new Promise((resolve) =>
    execFile('sysbench', argv, { timeout: (seconds + 30) * 1_000 }, (_error, stdout) =>
      resolve(String(stdout)),
    ),
  );
}

/** CHECKSUM TABLE of sbtest1 on a node, as root. */
export async function tableChecksum(lab: Lab, node: string): Promise<string> {
  const out = await asRoot(lab, node, 'CHECKSUM TABLE app.sbtest1');
  return out.trim().split('\t')[1] ?? '';
}
