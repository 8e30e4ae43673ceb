/**
 * The nemesis: a fault schedule drawn from the seed (which also draws the fault rates), played
 * against a SimWorld during the safety phase, then healed completely for the liveness phase.
 * Overlapping faults of the same kind are reference-counted so one ending does not end another.
 */

import { COORDINATORS, DB_COLOS, SITES, type SimWorld } from './world.js';
import type { Prng } from './prng.js';
import type { SimNode } from './sim-mysql.js';

export const FAULT_KINDS = [
  'crash-node',
  'hang-node',
  'slow-node',
  'lag',
  'isolate-site',
  'wan-cut',
  'etcd-stall',
  'etcd-link',
  'pause-coordinator',
  'crash-coordinator',
  'switchover',
  'pin',
  'forced-failover',
  'rejoin',
  'wan-delay',
  'crash-writer-behind',
  'errant-write',
  'break-replication',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  kind: FaultKind;
  start: number;
  duration: number;
  target: string;
  /** Kind-specific amount (slow ms, lag ms, WAN delay ms; break-replication: 1 = the row is binlogged). */
  amount: number;
}

export interface NemesisPlan {
  faults: Fault[];
  lostResponseRate: number;
  slowRate: number;
  slowMaxMs: number;
}

export function planNemesis(
  rng: Prng,
  faultPhaseMs: number,
  ttlMs: number,
  nodes: readonly string[] = ['m-a', 'm-b'],
): NemesisPlan {
  const weights = FAULT_KINDS.map(() => (rng.chance(0.25) ? 0 : rng.float()));
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  const pickKind = (): FaultKind => {
    let x = rng.float() * total;
    for (let i = 0; i < FAULT_KINDS.length; i++) {
      x -= weights[i] as number;
      if (x < 0) return FAULT_KINDS[i] as FaultKind;
    }
    return 'crash-node';
  };
  const count = rng.int(1, 10);
  const faults: Fault[] = [];
  for (let i = 0; i < count; i++) {
    const kind = pickKind();
    const start = rng.int(500, faultPhaseMs - 1000);
    // Durations around the interesting thresholds: probe hysteresis (~1 s) and the lease TTL.
    const duration = rng.pick([
      rng.int(200, 1500),
      rng.int(1500, ttlMs),
      rng.int(ttlMs, 3 * ttlMs),
      rng.int(3 * ttlMs, 25_000),
    ]);
    let target = '';
    let amount = 0;
    switch (kind) {
      case 'crash-node':
      case 'hang-node':
        target = rng.pick(nodes);
        break;
      case 'slow-node':
        target = rng.pick(nodes);
        amount = rng.int(100, 600);
        break;
      case 'lag':
        target = rng.pick(nodes);
        amount = rng.int(200, 6000);
        break;
      case 'isolate-site':
        target = rng.pick(SITES);
        break;
      case 'etcd-link':
      case 'pause-coordinator':
      case 'crash-coordinator':
        target = rng.pick(COORDINATORS).name;
        break;
      case 'switchover':
        target = rng.pick(['', 'm-a', 'm-b']);
        break;
      case 'pin':
        target = rng.pick(['', 'm-a', 'm-b']);
        break;
      case 'forced-failover':
        target = rng.pick(['', 'm-a', 'm-b']);
        break;
      case 'rejoin':
        target = rng.pick(['m-a', 'm-b']);
        break;
      case 'wan-delay':
      case 'crash-writer-behind':
        // Long enough for the other master to fall behind the writer's colo replica.
        amount = rng.pick([rng.int(200, 1000), rng.int(1000, 5000)]);
        break;
      case 'errant-write': {
        const replicas = nodes.filter((n) => n.startsWith('r-'));
        target = replicas.length > 0 ? rng.pick(replicas) : '';
        amount = rng.int(1, 3);
        break;
      }
      case 'break-replication':
        target = rng.pick(nodes);
        amount = rng.chance(0.5) ? 1 : 0;
        break;
      default:
        break;
    }
    faults.push({ kind, start, duration, target, amount });
  }
  faults.sort((x, y) => x.start - y.start || FAULT_KINDS.indexOf(x.kind) - FAULT_KINDS.indexOf(y.kind));
  return {
    faults,
    lostResponseRate: rng.chance(0.5) ? 0 : rng.float() * 0.05,
    slowRate: rng.chance(0.5) ? 0 : rng.float() * 0.2,
    slowMaxMs: rng.int(5, 400),
  };
}

/**
 * Fault assumption (DESIGN.md invariant 4 allows promotion once the old guardian's session is
 * gone, trusting that guardian to have self-fenced): while a coordinator is down or paused (or
 * restarted less than ASSUMPTION_SETTLE_MS ago), nothing hides its site's writer from the other
 * sites (no site isolation, WAN cut, hung or slow server there), and a coordinator is not
 * crashed or paused while something hides its site's writer. Without a fencing agent next to
 * MySQL, nothing can fence a live writer whose guardian is dead and that the leader cannot
 * reach: the leader would take it for dead (seeds 52, 871: site cut; 53849: slow server + WAN cut).
 * In worlds with the watchdog, a site cut or WAN cut no longer counts: the writer closes itself
 * before the dead guardian's lease can expire. A hung or slow writer still does (a hung server's
 * clients may write the moment it resumes, before its event's next tick).
 */
export const ASSUMPTION_SETTLE_MS = 5000;

export class Nemesis {
  private linkCuts = new Map<string, number>();
  /** Active faults hiding each site's writer from the other sites. */
  private obscured = new Map<string, number>();
  /** Coordinators down or paused; value: when they last came back (Infinity while down). */
  private downUntil = new Map<string, number>();
  private stalls = 0;
  private etcdLinks = new Map<string, number>();
  private intentSeq = 0;

  constructor(
    private readonly world: SimWorld,
    readonly plan: NemesisPlan,
  ) {}

  schedule(): void {
    const { etcd, scheduler } = this.world;
    etcd.faults = {
      lostResponseRate: this.plan.lostResponseRate,
      slowRate: this.plan.slowRate,
      slowMaxMs: this.plan.slowMaxMs,
    };
    this.world.trace.add(
      'nemesis',
      `rates lostResponse=${this.plan.lostResponseRate.toFixed(4)} slow=${this.plan.slowRate.toFixed(3)} slowMax=${this.plan.slowMaxMs}ms faults=${this.plan.faults.length}`,
    );
    for (const fault of this.plan.faults) {
      scheduler.at(fault.start, () => {
        const conflict = this.violatesAssumption(fault);
        if (conflict) {
          this.world.trace.add('nemesis', `skip ${describeFault(fault)}: ${conflict}`);
          return;
        }
        this.world.trace.add('nemesis', `start ${describeFault(fault)}`);
        const stop = this.begin(fault);
        const hides = stop ? this.hidesUncovered(fault) : [];
        for (const site of hides) this.obscured.set(site, (this.obscured.get(site) ?? 0) + 1);
        if (stop) {
          scheduler.at(fault.start + fault.duration, () => {
            this.world.trace.add('nemesis', `end ${fault.kind} ${fault.target}`);
            for (const site of hides)
              this.obscured.set(site, Math.max(0, (this.obscured.get(site) ?? 1) - 1));
            stop();
          });
        }
      });
    }
  }

  /** Sites whose writer this fault can hide from the others (slow/hung, cut off). */
  private obscures(f: Fault): string[] {
    switch (f.kind) {
      case 'isolate-site':
        return [f.target];
      case 'wan-cut':
        return [...DB_COLOS];
      case 'slow-node':
      case 'hang-node': {
        // Only a co-master can be the writer the leader must fence; a replica hides nothing.
        const spec = this.world.cluster.nodes.find((n) => n.name === f.target);
        return spec?.role === 'candidate' ? [spec.colo] : [];
      }
      default:
        return [];
    }
  }

  /** Sites whose writer this fault hides where nothing but its guardian would close it. */
  private hidesUncovered(f: Fault): string[] {
    const cut = f.kind === 'isolate-site' || f.kind === 'wan-cut';
    return cut && this.world.options.watchdog ? [] : this.obscures(f);
  }

  private violatesAssumption(f: Fault): string | undefined {
    if (!this.world.options.guardianFaultAssumption) return undefined;
    const now = this.world.scheduler.now();
    for (const site of this.hidesUncovered(f)) {
      const back = this.downUntil.get(site);
      if (back !== undefined && now < back + ASSUMPTION_SETTLE_MS) {
        return `coordinator ${site} is down or just restarted`;
      }
    }
    if (
      (f.kind === 'crash-coordinator' || f.kind === 'pause-coordinator') &&
      (this.obscured.get(f.target) ?? 0) > 0
    ) {
      return `site ${f.target}'s writer is hidden from the other sites`;
    }
    return undefined;
  }

  private coordinatorDown(name: string): void {
    this.downUntil.set(name, Infinity);
  }

  private coordinatorBack(name: string): void {
    this.downUntil.set(name, this.world.scheduler.now());
  }

  private begin(f: Fault): (() => void) | undefined {
    const w = this.world;
    switch (f.kind) {
      case 'crash-node': {
        const node = w.node(f.target);
        node.crash();
        return () => node.restart();
      }
      case 'hang-node': {
        const node = w.node(f.target);
        node.hang();
        return () => node.resume();
      }
      case 'slow-node': {
        const node = w.node(f.target);
        node.slowMs = f.amount;
        return () => {
          node.slowMs = 0;
        };
      }
      case 'lag': {
        const node = w.node(f.target);
        node.lagMs = f.amount;
        return () => {
          node.lagMs = 0;
        };
      }
      case 'isolate-site': {
        const links = SITES.filter((s) => s !== f.target).map((s) => [f.target, s] as const);
        for (const [x, y] of links) this.cut(x, y);
        return () => {
          for (const [x, y] of links) this.uncut(x, y);
        };
      }
      case 'wan-cut':
        this.cut(DB_COLOS[0], DB_COLOS[1]);
        return () => this.uncut(DB_COLOS[0], DB_COLOS[1]);
      case 'etcd-stall':
        if (this.stalls++ === 0) w.etcd.stall();
        return () => {
          if (--this.stalls === 0) w.etcd.unstall();
        };
      case 'etcd-link': {
        const n = (this.etcdLinks.get(f.target) ?? 0) + 1;
        this.etcdLinks.set(f.target, n);
        w.etcdLinkCut.add(f.target);
        w.updateEtcdReachability();
        return () => {
          const left = (this.etcdLinks.get(f.target) ?? 1) - 1;
          this.etcdLinks.set(f.target, left);
          if (left === 0) w.etcdLinkCut.delete(f.target);
          w.updateEtcdReachability();
        };
      }
      case 'pause-coordinator': {
        const proc = w.processes.get(f.target);
        if (!proc || proc.gate.state !== 'running') return undefined;
        proc.gate.pause();
        this.coordinatorDown(f.target);
        return () => {
          if (proc.gate.state !== 'paused') return;
          proc.gate.resume();
          this.coordinatorBack(f.target);
        };
      }
      case 'crash-coordinator': {
        const proc = w.processes.get(f.target);
        if (!proc || proc.gate.state === 'crashed') return undefined;
        proc.gate.crash();
        this.coordinatorDown(f.target);
        return () => {
          if (w.processes.get(f.target) !== proc) return;
          w.startProcess(proc.spec);
          this.coordinatorBack(f.target);
        };
      }
      case 'switchover':
        this.intent({ kind: 'switchover', ...(f.target ? { target: f.target } : {}) });
        return undefined;
      case 'pin':
        this.intent({ kind: 'pin', ...(f.target ? { node: f.target } : {}) });
        return () => this.intent({ kind: 'unpin' });
      case 'forced-failover':
        this.intent({ kind: 'failover', acceptDataLoss: true, ...(f.target ? { target: f.target } : {}) });
        return undefined;
      case 'rejoin':
        this.intent({ kind: 'rejoin', node: f.target });
        return undefined;
      case 'wan-delay':
        return w.network.addDelay(DB_COLOS[0], DB_COLOS[1], f.amount);
      case 'crash-writer-behind':
        return this.crashWriterBehind(f);
      case 'errant-write': {
        if (f.target === '') {
          w.trace.add('nemesis', 'errant-write: no replica in this world');
          return undefined;
        }
        const node = w.node(f.target);
        if (!node.up || node.hung) return undefined;
        const gtids = Array.from({ length: f.amount }, () => node.errantWrite());
        w.trace.add('nemesis', `errant write on ${node.name}: ${gtids.join(', ')}`);
        return undefined;
      }
      case 'break-replication':
        this.breakReplication(f);
        return undefined;
    }
  }

  /**
   * The writer dies while the other colo lags behind on the WAN (issue 10's lab run: its colo
   * replica held 35 transactions the other master lacked): the binlog to the other colo is
   * delayed by `amount`, and once that much has piled up, the writer crashes. It restarts, and
   * the delay ends, with the fault.
   */
  private crashWriterBehind(f: Fault): () => void {
    const w = this.world;
    const undelay = w.network.addDelay(DB_COLOS[0], DB_COLOS[1], f.amount);
    let crashed: SimNode | undefined;
    const timer = w.scheduler.after(Math.min(f.amount, Math.floor(f.duration / 2)), () => {
      crashed = this.currentWriter();
      if (!crashed?.up) return;
      w.trace.add(
        'nemesis',
        `crash writer ${crashed.name} (binlog to the other colo ${f.amount} ms behind; ${this.aheadOfStandby(crashed)})`,
      );
      crashed.crash();
    });
    return () => {
      w.scheduler.cancel(timer);
      undelay();
      crashed?.restart();
    };
  }

  /** How far the writer's colo replicas are ahead of the other candidates, in its domain. */
  private aheadOfStandby(writer: SimNode): string {
    const w = this.world;
    const domain = writer.spec.domain;
    const role = (n: SimNode): string | undefined => w.cluster.nodes.find((c) => c.name === n.name)?.role;
    const nodes = [...w.mysql.nodes.values()];
    const standby = Math.max(
      0,
      ...nodes.filter((n) => n !== writer && role(n) === 'candidate').map((n) => n.holds(domain)),
    );
    const replicas = nodes.filter((n) => role(n) === 'replica' && n.spec.colo === writer.spec.colo);
    if (replicas.length === 0) return 'no replica in its colo';
    const best = Math.max(...replicas.map((n) => n.holds(domain)));
    return best > standby
      ? `its colo replica holds ${best - standby} more than the standby`
      : 'replica not ahead';
  }

  /**
   * A row written on a replica or the standby (as root, read_only bypassed) that a later source
   * transaction also inserts: the SQL thread stops with 1062 when it gets there, and again after
   * every restart until an operator repairs the row (never, here). Binlogged, it is also errant.
   */
  private breakReplication(f: Fault): void {
    const w = this.world;
    const node = w.node(f.target);
    const writer = this.currentWriter();
    if (!writer || writer === node || !node.up || node.hung || node.conflict) {
      w.trace.add('nemesis', `break-replication ${node.name}: not a replica of a writer now`);
      return;
    }
    const domain = writer.spec.domain;
    node.conflict = { domain, seq: w.mysql.log.length(domain) + 1 };
    const errant = f.amount === 1 ? `, binlogged as ${node.errantWrite()}` : '';
    w.trace.add(
      'nemesis',
      `break-replication ${node.name}: a row that ${domain}-${writer.spec.serverId}-${node.conflict.seq} will collide with${errant}`,
    );
  }

  /** The writable node, else the one the writer record names. */
  private currentWriter(): SimNode | undefined {
    const w = this.world;
    const writable = w.writableNodes()[0];
    if (writable) return writable;
    const record = w.etcd.get(w.keys.writer);
    return record ? w.mysql.node((JSON.parse(record.value) as { node: string }).node) : undefined;
  }

  /** Operators write intents through etcd directly (the CLI path), never through a coordinator. */
  private intent(body: Record<string, unknown>): void {
    const id = `op-${++this.intentSeq}`;
    const at = this.world.scheduler.now();
    const value = { id, by: 'operator@sim', at, status: 'pending', reason: 'nemesis', ...body };
    this.world.etcd.txn([], [{ put: this.world.keys.intent(id), value: JSON.stringify(value) }], 'operator');
  }

  private cut(x: string, y: string): void {
    const key = `${x}|${y}`;
    const n = (this.linkCuts.get(key) ?? 0) + 1;
    this.linkCuts.set(key, n);
    this.world.network.cut(x, y);
    this.world.updateEtcdReachability();
  }

  private uncut(x: string, y: string): void {
    const key = `${x}|${y}`;
    const n = (this.linkCuts.get(key) ?? 1) - 1;
    this.linkCuts.set(key, n);
    if (n === 0) this.world.network.heal(x, y);
    this.world.updateEtcdReachability();
  }

  /** End every fault: the liveness phase starts from a whole, healthy world. */
  healAll(): void {
    const w = this.world;
    w.trace.add('nemesis', 'heal everything');
    w.etcd.faults = { lostResponseRate: 0, slowRate: 0, slowMaxMs: 0 };
    for (const node of w.mysql.nodes.values()) {
      node.restart();
      node.resume();
      node.slowMs = 0;
      node.lagMs = 0;
    }
    this.linkCuts.clear();
    this.obscured.clear();
    this.downUntil.clear();
    w.network.healAll();
    w.network.clearExtraDelays();
    w.etcdLinkCut.clear();
    this.etcdLinks.clear();
    w.updateEtcdReachability();
    if (this.stalls > 0) {
      this.stalls = 0;
      w.etcd.unstall();
    }
    for (const spec of COORDINATORS) {
      const proc = w.processes.get(spec.name);
      if (!proc) continue;
      if (proc.gate.state === 'paused') proc.gate.resume();
      if (proc.gate.state === 'crashed') w.startProcess(spec);
    }
  }
}

function describeFault(f: Fault): string {
  const extra = f.amount > 0 ? ` amount=${f.amount}` : '';
  return `${f.kind} ${f.target || '-'} for ${f.duration} ms${extra}`;
}
