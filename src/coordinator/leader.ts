/**
 * Leadership of one cluster: a campaign bound to our session. We are leader only while the
 * campaign has resolved, for the session it was started with, and that session is provably
 * alive; every leader write is still guarded by the leader key's create-revision (executor), so
 * a stale belief can only make a write fail. A campaign is dead after its first error
 * (FIELD-NOTES: etcd3 can emit `elected` after `error`).
 */

import type { ClusterKeys } from './keys.js';
import type { LeaseDeadline } from './lease-deadline.js';
import type { Leadership, Session, Store } from './ports.js';

export class LeaderRole {
  private leadership: Leadership | undefined;
  private campaignFor: Session | undefined;
  private controller: AbortController | undefined;

  constructor(
    private readonly store: Store,
    private readonly keys: ClusterKeys,
    private readonly coordinator: string,
    private readonly lease: LeaseDeadline,
    private readonly onChange: (leading: boolean) => void,
  ) {}

  /** Start campaigning with this session unless already doing so. */
  campaign(session: Session): void {
    if (this.campaignFor === session) return;
    this.stop();
    this.campaignFor = session;
    const controller = new AbortController();
    this.controller = controller;
    const election = this.store.election(this.keys.leaderPrefix, session);
    election.campaign(this.coordinator, controller.signal).then(
      (leadership) => {
        if (this.controller !== controller || controller.signal.aborted || session.signal.aborted) return;
        this.leadership = leadership;
        this.onChange(true);
      },
      () => {
        if (this.controller === controller) this.campaignFor = undefined;
      },
    );
  }

  /** Current leadership, only while our session is provably alive. */
  current(): Leadership | undefined {
    if (!this.leadership) return undefined;
    if (this.campaignFor?.signal.aborted || !this.lease.valid()) {
      this.stop();
      return undefined;
    }
    return this.leadership;
  }

  /** A guarded write found our key gone: we are not leader any more. */
  lost(): void {
    this.stop();
  }

  stop(): void {
    const was = this.leadership !== undefined;
    this.controller?.abort();
    this.controller = undefined;
    this.campaignFor = undefined;
    this.leadership = undefined;
    if (was) this.onChange(false);
  }
}
