/**
 * The leader's stand-in guardian duty (DESIGN.md "Watchdog"): the leader also vouches for a
 * writer in another colo to that writer's watchdog, whenever it sees it open. The writer's own
 * guardian does so too; the stand-in is what keeps the writer open when that guardian is dead
 * or paused (scenario 9: an agent's death is not the master's death), and its holds are short
 * enough not to delay a colo-cut failover (standInMaxHoldMs).
 */

import {
  standInMaxHoldMs,
  type ClusterSpec,
  type NodeObservation,
  type WriterRecord,
} from '../core/index.js';
import { linkTimeoutMs } from './link-deadline.js';
import type { Database } from './ports.js';
import type { WatchdogStamps } from './watchdog-stamps.js';

export interface StandInSettings {
  /** What the server may take for the stamp; the link's round trips are added per stamp. */
  stampTimeoutMs: number;
  sessionTtlMs: number;
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
    // The stamp's own deadline counts against its hold (standInMaxHoldMs): a far writer gets a
    // shorter hold, never one that outlasts the bound a colo cut relies on.
    const timeoutMs = linkTimeoutMs(this.settings.stampTimeoutMs, db);
    const maxHoldMs = standInMaxHoldMs(this.settings.sessionTtlMs, timeoutMs);
    try {
      await this.stamps.heartbeat(db, writer.node, timeoutMs, maxHoldMs, true);
    } catch (error) {
      this.onFailure(writer.node, error);
    }
  }
}
