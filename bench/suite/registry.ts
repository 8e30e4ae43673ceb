/**
 * Every scenario `npm run bench` knows: adding one is one entry here. A scenario runs on any WAN
 * profile, under each policy it lists (the first is its default; two only where they behave
 * differently), on a fresh lab per run.
 */
import { DEFAULT_TIMINGS } from '../../src/core/timings.js';
import type { WanProfileName } from '../../src/lab/wan-profile.js';
import { goalsFor, type Goal, type Policy } from '../goals.js';
import type { ScenarioResult } from './run-record.js';
import { runCoordinatorLeaderKill } from './scenarios/coordinator-kill.js';
import { runEtcdLeaderKill } from './scenarios/etcd-leader-kill.js';
import { runFlapSoak } from './scenarios/flap-soak.js';
import { runRouted } from './scenarios/routed.js';
import { runSemiSyncKill } from './scenarios/semisync-kill.js';
import type { RunContext } from './scenarios/support.js';
import { runSwitchover, runSwitchoverUnderSysbench } from './scenarios/switchover.js';
import { runWriterFault } from './scenarios/writer-fault.js';

export interface ScenarioDefinition {
  name: string;
  description: string;
  policies: readonly Policy[];
  /** The policies it runs under in the default suite (none: only when named). */
  inDefaultSuite: readonly Policy[];
  /**
   * One run, lab up to lab down, at the default profile: for the estimate. Measured once each on
   * the project's 2-core VM while other work ran (load average 8–12), rounded up to 5 s; a lab
   * start-up under that load is most of the spread (kill-routed: 52 s before its fault).
   */
  estimatedRunSeconds: number;
  goals(wan: WanProfileName, policy: Policy): Goal[];
  run(ctx: RunContext): Promise<ScenarioResult>;
}

const BOTH: readonly Policy[] = ['availability', 'consistency'];
const AVAILABILITY: readonly Policy[] = ['availability'];

function scenario(
  name: string,
  entry: Omit<ScenarioDefinition, 'name' | 'goals' | 'policies' | 'inDefaultSuite'> &
    Partial<Pick<ScenarioDefinition, 'policies' | 'inDefaultSuite'>>,
): ScenarioDefinition {
  const policies = entry.policies ?? AVAILABILITY;
  return {
    name,
    policies,
    inDefaultSuite: entry.inDefaultSuite ?? policies,
    goals: (wan, policy) => goalsFor(name, wan, policy),
    ...entry,
  };
}

export const SCENARIOS: readonly ScenarioDefinition[] = [
  scenario('kill', {
    description: 'kill -9 of the writer a1 (consistency: asynchronous replication, so no promotion)',
    policies: BOTH,
    estimatedRunSeconds: 40,
    run: (ctx) => runWriterFault('kill', ctx),
  }),
  scenario('hang', {
    description: 'SIGSTOP of the writer a1 (a hung writer, shot by its fence command)',
    estimatedRunSeconds: 40,
    run: (ctx) => runWriterFault('hang', ctx),
  }),
  scenario('cut', {
    description: "site a (the writer's colo) cut off; healed after b1 took writes",
    policies: BOTH,
    estimatedRunSeconds: 40,
    run: (ctx) => runWriterFault('cut', ctx),
  }),
  scenario('cut-raft-a', {
    description: "the same cut with etcd's raft leader moved into site a first (the worst case)",
    estimatedRunSeconds: 30,
    run: (ctx) => runWriterFault('cut-raft-a', ctx),
  }),
  scenario('coordinator-leader-kill', {
    description: `kill -9 of the coordinator holding the leader key: no writer change; a new leader (TTL ${DEFAULT_TIMINGS.sessionTtlMs} ms)`,
    estimatedRunSeconds: 35,
    run: runCoordinatorLeaderKill,
  }),
  scenario('etcd-leader-kill', {
    description: "kill -9 of etcd's raft leader member: no writer change",
    estimatedRunSeconds: 55,
    run: runEtcdLeaderKill,
  }),
  scenario('switchover', {
    description: 'planned switchover a1 → b1 through the CLI',
    estimatedRunSeconds: 25,
    run: runSwitchover,
  }),
  scenario('switchover-sysbench', {
    description: 'planned switchover a1 → b1 under sysbench oltp_write_only through the write port',
    estimatedRunSeconds: 30,
    run: runSwitchoverUnderSysbench,
  }),
  scenario('semisync-kill', {
    description: 'kill -9 of a1 under 8 writers, semi-sync in each colo; a1 returns and is compared',
    policies: ['consistency'],
    estimatedRunSeconds: 35,
    run: runSemiSyncKill,
  }),
  scenario('kill-routed', {
    description: "kill -9 of a1, for a client that knows only HAProxy's write port",
    estimatedRunSeconds: 70,
    run: (ctx) => runRouted('kill', ctx),
  }),
  scenario('cut-routed', {
    description: "site a cut off, for a client that knows only HAProxy's write port",
    estimatedRunSeconds: 100,
    run: (ctx) => runRouted('cut', ctx),
  }),
  scenario('switchover-routed', {
    description: "planned switchover, for a client that knows only HAProxy's write port",
    estimatedRunSeconds: 30,
    run: (ctx) => runRouted('switchover', ctx),
  }),
  scenario('flap-soak', {
    description:
      'lab fault flap (seeded: writer stalls 0.1-1 s, writer-colo cuts 0.1-1.5 s, etcd-member stalls 0.1-1 s, 1-5 s apart) for --flap-minutes (default 2): no writer change, no fence',
    estimatedRunSeconds: 165,
    run: runFlapSoak,
  }),
];

export function findScenario(name: string): ScenarioDefinition | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
