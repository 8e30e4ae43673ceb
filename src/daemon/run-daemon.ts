import { systemClock } from '../clock.js';
import {
  ConfigError,
  loadConfig,
  readClusterTls,
  readEtcdTls,
  resolvePassword,
} from '../config/load-config.js';
import { validateCoordinatorConfig } from '../coordinator/config.js';
import { deriveTimings, storeCallTimeoutMs } from '../core/index.js';
import { Coordinator } from '../coordinator/loop.js';
import type { Database } from '../coordinator/ports.js';
import type { EtcdClientSettings } from '../etcd/client.js';
import { RaftLeaderKeeper } from '../etcd/raft-leader.js';
import { ReportBatch } from '../coordinator/report-batch.js';
import { EtcdStore } from '../etcd/store.js';
import { createLogger, type Logger } from '../log.js';
import { MysqlDatabase } from '../mysql/database.js';
import { VERSION } from '../version.js';
import { toCoordinatorConfig } from './coordinator-config.js';
import { loopLogger } from './loop-logger.js';
import type { ClusterConfig } from '../config/schema.js';
import type { NodeShooter } from '../coordinator/ports.js';
import { runFenceCommand } from '../hooks/fence-command.js';
import { BatonMetrics } from '../http/metrics.js';
import { ClusterHooks, reportHookRun } from '../hooks/cluster-hooks.js';
import type { HistoryEntry } from '../core/index.js';
import { HookPromotionApprover } from '../hooks/promotion-approver.js';
import { RoutingService, type RoutedCluster } from '../http/routing-service.js';
import { clusterLayout } from '../http/cluster-layout.js';

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

/** How often the baton leader checks where etcd's raft leader is. */
const RAFT_LEADER_CHECK_MS = 5_000;
/** Never move raft leadership more often than this: each move refreshes every lease. */
const RAFT_LEADER_MIN_MOVE_GAP_MS = 30_000;
/**
 * After etcd refused a placement call for lack of permission, ask again this much later: a root
 * role is granted by hand, not within seconds, and a refused call every 5 s for the life of the
 * process buys nothing.
 */
const RAFT_LEADER_REFUSED_RECHECK_MS = 60_000;

/** What a coordinator without etcd's root role gives up, and the ways out (DESIGN.md "etcd RBAC"). */
function placementRefusal(keeper: RaftLeaderKeeper, refusal: string): { message: string; fix: string } {
  const who = keeper.user === undefined ? 'our etcd user' : `etcd user ${keeper.user}`;
  return {
    message:
      `etcd raft leader placement is off: ${refusal}; ` +
      `raft leadership stays wherever etcd elects it, and a colo cut that takes it along fails over seconds later. ` +
      'Nothing else baton does needs root. Asked again each minute; said again only if the answer changes',
    fix:
      `grant ${who} the root role (it can then write every key), or keep the raft leader on ${keeper.preferred} ` +
      `as root by hand (etcdctl move-leader), or remove etcd.preferredLeader to accept the delay`,
  };
}

/**
 * While this process leads a cluster, keep etcd's raft leader on the configured member (see
 * raft-leader.ts for why). Each outcome is logged once per change, never every check.
 */
function keepRaftLeader(
  keeper: RaftLeaderKeeper,
  mayMove: () => boolean,
  timeoutMs: number,
  log: Logger,
): { stop(): void } {
  let lastMoveAt = -Infinity;
  let refusedUntil = -Infinity;
  let lastSaid = '';
  let running = false;
  /** Logs `what` unless the last thing said had the same key (error texts carry timings). */
  const say = (key: string, what: string, level: 'info' | 'warn', fields: Record<string, unknown>): void => {
    if (key === lastSaid) return;
    lastSaid = key;
    log[level]({ event: 'raft-leader', preferred: keeper.preferred, ...fields }, what);
  };
  const check = async (): Promise<void> => {
    const now = systemClock.now();
    if (running || !mayMove() || now - lastMoveAt < RAFT_LEADER_MIN_MOVE_GAP_MS || now < refusedUntil) return;
    running = true;
    try {
      const outcome = await keeper.ensure(systemClock.now() + timeoutMs);
      if (outcome.kind === 'moved') {
        lastMoveAt = systemClock.now();
        lastSaid = '';
        log.warn(
          { event: 'raft-leader', moved: true, from: outcome.from, to: outcome.to },
          `moved etcd raft leadership from ${outcome.from} to ${outcome.to}`,
        );
      } else if (outcome.kind === 'not-permitted') {
        // Off the decision loop and no session involved: the refusal costs placement, nothing else.
        refusedUntil = systemClock.now() + RAFT_LEADER_REFUSED_RECHECK_MS;
        const { message, fix } = placementRefusal(keeper, outcome.detail);
        say(`not-permitted ${outcome.call}`, message, 'warn', { notPermitted: outcome.call, fix });
      } else if (outcome.kind === 'in-place') {
        say('in-place', `etcd raft leader is ${keeper.preferred}, as preferred`, 'info', { inPlace: true });
      } else {
        say(
          outcome.detail,
          `etcd raft leader not moved to ${keeper.preferred}: ${outcome.detail}`,
          'warn',
          {},
        );
      }
    } catch (error) {
      const { name, message } = error as Error;
      say(name, `etcd raft leader check failed: ${message}`, 'warn', {});
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void check(), RAFT_LEADER_CHECK_MS);
  return {
    stop() {
      clearInterval(timer);
      keeper.close();
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

  const derived = deriveTimings(file.timings);
  const etcdTls = readEtcdTls(file.etcd.tls, configFile);
  const mysqlTls = readClusterTls(file, configFile);
  const etcdSettings: EtcdClientSettings = {
    endpoints: file.etcd.endpoints,
    auth: etcdAuth,
    ...(etcdTls ? { tls: etcdTls } : {}),
    defaultCallTimeoutMs: derived.etcdCallTimeoutMs,
  };
  // One lease for every cluster loop of this process (session-share.ts).
  const store = EtcdStore.connect(etcdSettings, systemClock, { logger: log, shareSessions: true });
  // Every cluster's report refreshes in one txn per cycle interval (report-batch.ts).
  const reportBatch = new ReportBatch(store, systemClock, file.timings.cycleIntervalMs, () =>
    storeCallTimeoutMs(file.timings, store.roundTripMs()),
  );
  const clusterViews: RoutedCluster[] = [];
  const hooksByCluster = new Map<string, ClusterHooks>();
  const metrics: BatonMetrics = new BatonMetrics(() => [...routing.views.values()]);
  const databases: Database[] = [];
  const coordinators = configs.map((config, index) => {
    const clusterLog = log.child({ cluster: config.cluster.name, coordinator: config.self.name });
    const byNode = new Map<string, Database>();
    const tls = mysqlTls.get(config.cluster.name);
    for (const node of config.cluster.nodes) {
      const database = new MysqlDatabase(
        {
          name: node.name,
          host: node.host,
          port: node.port,
          user: file.mysql.user,
          password: mysqlPassword,
          ...(tls ? { tls } : {}),
          // What the server may take per step; each step also gets the link's round trip.
          answerAllowanceMs: derived.mysqlAnswerAllowanceMs,
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
    const clusterConfig = file.clusters[index] as ClusterConfig;
    const shooter = fenceCommandShooter(clusterConfig, clusterLog);
    const beforePromote = clusterConfig.hooks.beforePromote;
    const hookLog = clusterLog.child({ component: 'hooks' });
    const hookReporting = {
      hookFinished: metrics.hookFinished.bind(metrics),
      recordHistory: (entry: Omit<HistoryEntry, 'at'>) => coordinator.recordHistory(entry),
    };
    const approver = beforePromote
      ? new HookPromotionApprover(
          clusterConfig,
          beforePromote,
          reportHookRun(clusterConfig.name, file.coordinator.name, hookReporting, hookLog),
        )
      : undefined;
    const coordinator: Coordinator = new Coordinator({
      config,
      clock: systemClock,
      store,
      databases: byNode,
      ...(shooter ? { shooter } : {}),
      log: loopLogger(clusterLog.child({ component: 'loop' })),
      onCycleFinished: (ms) => metrics.cycleFinished(config.cluster.name, ms),
      reportBatch,
      ...(approver ? { approver } : {}),
    });
    hooksByCluster.set(
      clusterConfig.name,
      new ClusterHooks(clusterConfig, file.coordinator.name, hookReporting, hookLog),
    );
    clusterViews.push({
      cluster: config.cluster.name,
      layout: clusterLayout(clusterConfig),
      source: coordinator,
    });
    return coordinator;
  });
  // Its own etcd client: its reads and watches hang through an etcd election like any other, and
  // must not move the latency and member health the decision loop's deadlines are built on.
  const routingStore = EtcdStore.connect(etcdSettings, systemClock, {
    logger: log.child({ component: 'http.etcd' }),
  });
  const routing: RoutingService = new RoutingService({
    coordinator: file.coordinator.name,
    store: routingStore,
    clock: systemClock,
    clusters: clusterViews,
    // A quiet coordinator reads the writer record and probes replicas once a quiet interval.
    freshForMs: Math.max(file.timings.reportFreshMs, 2 * file.timings.quietProbeIntervalMs),
    sessionTtlMs: file.timings.sessionTtlMs,
    etcdTimeoutMs: derived.etcdCallTimeoutMs,
    metrics,
    onOwnHistory: (cluster, entry) => hooksByCluster.get(cluster)?.onOwnHistory(entry),
    log,
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
  const keeper = file.etcd.preferredLeader
    ? keepRaftLeader(
        new RaftLeaderKeeper(store.client, etcdSettings, file.etcd.preferredLeader, systemClock),
        // Only while every cluster we lead is steady: a move renews all leases (raft-leader.ts).
        () =>
          coordinators.some((c) => c.isLeader()) &&
          coordinators.every((c) => !c.isLeader() || c.isSteadyLeader()),
        derived.raftLeaderCheckTimeoutMs,
        log.child({ component: 'etcd.raft-leader' }),
      )
    : undefined;
  const done = (async () => {
    try {
      await routing.start(file.http?.listen);
      reportBatch.start();
      await Promise.all(coordinators.map((c) => c.run(controller.signal)));
    } finally {
      reportBatch.stop();
      await routing.stop();
      await Promise.allSettled([...hooksByCluster.values()].map((h) => h.stop()));
      keeper?.stop();
      await Promise.allSettled(databases.map((d) => d.close()));
      store.client.close();
      routingStore.client.close();
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
