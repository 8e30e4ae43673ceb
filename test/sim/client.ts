/**
 * The application: one client per database colo, committing a transaction every tick on
 * whatever node it finds writable and can reach, and remembering every acknowledged GTID.
 * Acknowledged writes are what the consistency checker holds the cluster to.
 */

import type { SimMysqlWorld } from './sim-mysql.js';

export interface AckedWrite {
  gtid: string;
  domain: number;
  seq: number;
  node: string;
  client: string;
  at: number;
}

export class SimClient {
  constructor(
    readonly name: string,
    readonly colo: string,
    private readonly world: SimMysqlWorld,
    private readonly onAck: (w: AckedWrite) => void,
  ) {}

  /** One attempt: the first writable node (by name) that this client's colo can reach. */
  tick(): void {
    for (const node of this.world.nodes.values()) {
      if (!node.writable || !this.world.network.reachable(this.colo, node.spec.colo)) continue;
      if (node.slowMs > 0) continue; // a slow server does not answer within the client's timeout
      const gtid = node.commit();
      const seq = Number(gtid.split('-')[2]);
      this.onAck({
        gtid,
        domain: node.spec.domain,
        seq,
        node: node.name,
        client: this.name,
        at: this.world.scheduler.now(),
      });
      return;
    }
  }
}
