/**
 * The etcd key layout of one cluster (DESIGN.md "etcd keys"), in one place so the loop, the CLI
 * and the simulation's checkers cannot drift apart. Values are plain JSON.
 */
export interface ClusterKeys {
  /** Everything of the cluster (for etcdctl get --prefix). */
  root: string;
  /** Election prefix: `<leaderPrefix>/<lease-hex>`, etcd concurrency layout. */
  leaderPrefix: string;
  writer: string;
  observationsPrefix: string;
  observation(coordinator: string): string;
  /** Each coordinator's guardian promises (GuardianRecord), lease-bound like its report. */
  guardiansPrefix: string;
  guardian(coordinator: string): string;
  pin: string;
  intentsPrefix: string;
  intent(id: string): string;
  cooldown: string;
  /** In-flight switchover/failover journal (core OperationJournal). */
  operation: string;
  /** Quarantined ex-writers, by node name. */
  quarantine: string;
  /** Broken replication and divergence on its way to quarantine (core ReplicaHealth). */
  replicas: string;
  historyPrefix: string;
  history(epoch: number, seq: number): string;
}

export function clusterKeys(cluster: string): ClusterKeys {
  const root = `/baton/${cluster}/`;
  return {
    root,
    leaderPrefix: `${root}leader`,
    writer: `${root}writer`,
    observationsPrefix: `${root}observations/`,
    observation: (coordinator) => `${root}observations/${coordinator}`,
    guardiansPrefix: `${root}guardians/`,
    guardian: (coordinator) => `${root}guardians/${coordinator}`,
    pin: `${root}pin`,
    intentsPrefix: `${root}intents/`,
    intent: (id) => `${root}intents/${id}`,
    cooldown: `${root}cooldown`,
    operation: `${root}operation`,
    quarantine: `${root}quarantine`,
    replicas: `${root}replicas`,
    historyPrefix: `${root}history/`,
    // Zero-padded so that `etcdctl get --prefix` lists the audit trail in order.
    history: (epoch, seq) =>
      `${root}history/${String(epoch).padStart(10, '0')}-${String(seq).padStart(16, '0')}`,
  };
}
