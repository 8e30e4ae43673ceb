import { systemClock } from '../clock.js';
import { ConfigError, loadConfig, resolvePassword } from '../config/load-config.js';
import { validateCoordinatorConfig } from '../coordinator/config.js';
import { Coordinator } from '../coordinator/loop.js';
import type { Database } from '../coordinator/ports.js';
import { EtcdStore } from '../etcd/store.js';
import { createLogger, type Logger } from '../log.js';
import { MysqlDatabase } from '../mysql/database.js';
import { VERSION } from '../version.js';
import { toCoordinatorConfig } from './coordinator-config.js';
import { loopLogger } from './loop-logger.js';
import type { ClusterConfig } from '../config/schema.js';
import type { NodeShooter } from '../coordinator/ports.js';
import { runFenceCommand } from '../hooks/fence-command.js';

/** The cluster's STONITH command as the loop's NodeShooter (none when not configured). */
function fenceCommandShooter(cluster: ClusterConfig, log: Logger): NodeShooter | undefined {
  const argv = cluster.fenceCommand;
  if (!argv) return undefined;
  return {
    async shoot(node: string, deadline: number) {
      const spec = cluster.nodes.find((n) => n.name === node);
      if (!spec) return { ok: false, detail: `unknown node ${node}` };
      const result = await runFenceCommand(
        argv,
        { cluster: cluster.name, node, host: spec.host, port: spec.port },
        Math.max(0, Math.min(cluster.fenceCommandTimeoutMs, deadline - systemClock.now())),
      );
      const detail = `fence command ${result.outcome} after ${result.ms} ms${result.stderrTail ? `: ${result.stderrTail}` : ''}`;
      log.warn(
        { event: 'fence-command', node, ok: result.ok, detail },
        `fence command for ${node}: ${detail}`,
      );
      return { ok: result.ok, detail };
    },
  };
}

export interface DaemonHandle {
  /** Resolves when every cluster loop has stopped. */
  done: Promise<void>;
  stop(reason: string): void;
}

/**
 * `baton run`: one Coordinator per configured cluster, sharing one etcd client. SIGTERM or
 * SIGINT stops the loops, which resign leadership and let their sessions go; a second signal
 * exits at once.
 */
export function startDaemon(configFile: string, logger?: Logger): DaemonHandle {
  const file = loadConfig(configFile);
  const log = logger ?? createLogger({ level: file.log.level });
  const mysqlPassword = resolvePassword(file.mysql, 'mysql', configFile) ?? '';
  const replicationPassword = file.replication
    ? resolvePassword(file.replication, 'replication', configFile)
    : undefined;
  const etcdAuth = file.etcd.auth
    ? {
        username: file.etcd.auth.user,
        password: resolvePassword(file.etcd.auth, 'etcd.auth', configFile) ?? '',
      }
    : undefined;

  const configs = file.clusters.map((cluster) => toCoordinatorConfig(file, cluster));
  const problems = configs.flatMap((c, i) =>
    validateCoordinatorConfig(c).map((message) => ({ path: `clusters[${i}]`, message })),
  );
  if (problems.length > 0) throw new ConfigError(configFile, problems);

  const store = EtcdStore.connect(
    { endpoints: file.etcd.endpoints, auth: etcdAuth, defaultCallTimeoutMs: file.timings.storeTimeoutMs * 2 },
    systemClock,
    { logger: log },
  );
  const databases: Database[] = [];
  const coordinators = configs.map((config, index) => {
    const clusterLog = log.child({ cluster: config.cluster.name, coordinator: config.self.name });
    const byNode = new Map<string, Database>();
    for (const node of config.cluster.nodes) {
      const database = new MysqlDatabase(
        {
          name: node.name,
          host: node.host,
          port: node.port,
          user: file.mysql.user,
          password: mysqlPassword,
          connectTimeoutMs: file.timings.probeTimeoutMs,
          ...(file.replication && replicationPassword !== undefined
            ? { replication: { user: file.replication.user, password: replicationPassword } }
            : {}),
        },
        systemClock,
        clusterLog,
      );
      byNode.set(node.name, database);
      databases.push(database);
    }
    const shooter = fenceCommandShooter(file.clusters[index] as ClusterConfig, clusterLog);
    return new Coordinator({
      config,
      clock: systemClock,
      store,
      databases: byNode,
      ...(shooter ? { shooter } : {}),
      log: loopLogger(clusterLog.child({ component: 'loop' })),
    });
  });

  const controller = new AbortController();
  log.info(
    {
      event: 'started',
      version: VERSION,
      coordinator: file.coordinator.name,
      clusters: configs.map((c) => c.cluster.name),
    },
    'baton coordinator started',
  );
  const done = (async () => {
    try {
      await Promise.all(coordinators.map((c) => c.run(controller.signal)));
    } finally {
      await Promise.allSettled(databases.map((d) => d.close()));
      store.client.close();
      log.info({ event: 'stopped' }, 'baton coordinator stopped');
    }
  })();
  return {
    done,
    stop(reason: string) {
      if (!controller.signal.aborted) {
        log.info({ event: 'stopping', reason }, 'stopping: resigning leadership and releasing sessions');
        controller.abort(new Error(reason));
      }
    },
  };
}
