/**
 * The leader's stand-in guardian duty (DESIGN.md "Watchdog"): the leader also vouches for a
 * writer in another colo to that writer's watchdog, whenever it sees it open. The writer's own
 * guardian does so too; the stand-in is what keeps the writer open when that guardian is dead
 * or paused (scenario 9: an agent's death is not the master's death), and its holds are short
 * enough not to delay a colo-cut failover (standInMaxHoldMs).
 */

import type { ClusterSpec, NodeObservation, WriterRecord } from '../core/index.js';
import type { Database } from './ports.js';
import type { WatchdogStamps } from './watchdog-stamps.js';

export interface StandInSettings {
  stampTimeoutMs: number;
  maxHoldMs: number;
}

export class StandInGuardian {
  constructor(
    private readonly spec: ClusterSpec,
    private readonly colo: string,
    private readonly databases: ReadonlyMap<string, Database>,
    private readonly stamps: WatchdogStamps,
    private readonly settings: StandInSettings,
    private readonly onFailure: (node: string, error: unknown) => void,
  ) {}

  /** One stamp on the writer, if it is another colo's and this cycle's probe saw it open. */
  async stamp(writer: WriterRecord | undefined, observations: NodeObservation[]): Promise<void> {
    if (!writer) return;
    const node = this.spec.nodes.find((n) => n.name === writer.node);
    if (!node || node.colo === this.colo) return;
    const obs = observations.find((o) => o.node === writer.node);
    const db = this.databases.get(writer.node);
    // The stamps decide whether our lease allows a hold; without one this writes nothing.
    if (!db || obs?.reachable !== true || obs.readOnly !== false) return;
    const { stampTimeoutMs, maxHoldMs } = this.settings;
    try {
      await this.stamps.heartbeat(db, writer.node, stampTimeoutMs, maxHoldMs, true);
    } catch (error) {
      this.onFailure(writer.node, error);
    }
  }
}
