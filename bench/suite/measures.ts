/**
 * What one benchmark run measured. A measure either has a value or says why it has none: a
 * figure that does not apply, or could not be taken, is never reported as a 0.
 */

export type Measure = { value: number } | { value: null; why: string };

export function measured(value: number): Measure {
  return { value };
}

export function notMeasured(why: string): Measure {
  return { value: null, why };
}

export type Unit = 'ms' | 'count';

export interface MeasureDefinition {
  label: string;
  /** For the progress line. */
  short: string;
  unit: Unit;
  /** How it is measured, for the report. */
  about: string;
}

/** Every scenario records these (null with a reason where one does not apply). */
export const STANDARD_MEASURES = {
  outageMs: {
    label: 'write outage',
    short: 'outage',
    unit: 'ms',
    about:
      "the measuring client's longest gap between acknowledged writes from the fault until the end of the run",
  },
  resumeMs: {
    label: 'writes resume',
    short: 'resume',
    unit: 'ms',
    about: 'fault → first write acknowledged by the new writer',
  },
  detectMs: {
    label: 'time to detect',
    short: 'detect',
    unit: 'ms',
    about:
      "fault → the leader's first failover decision in history: a failover's start (its operation id), or a skip of one (skipped-*)",
  },
  promoteMs: {
    label: 'time to promote',
    short: 'promote',
    unit: 'ms',
    about: 'fault → the writer key names another node (an etcd watch)',
  },
  lostAckedWrites: {
    label: 'acknowledged writes lost',
    short: 'lost',
    unit: 'count',
    about: 'writes the measuring client saw acknowledged that the final writer does not hold',
  },
  nonWriterAcks: {
    label: 'acknowledged by a non-writer',
    short: 'non-writer acks',
    unit: 'count',
    about:
      'acknowledgements from a node the writer key did not name at that moment (100 ms allowed for the watch)',
  },
  fences: {
    label: 'fences',
    short: 'fences',
    unit: 'count',
    about: 'history entries of fence actions from the start of measurement',
  },
  epochChanges: {
    label: 'epoch changes',
    short: 'epoch +',
    unit: 'count',
    about: 'writer epoch at the end minus the epoch before the fault',
  },
  writerChanges: {
    label: 'writer changes',
    short: 'writer changes',
    unit: 'count',
    about: 'changes of the writer key to another node, as the watch saw them',
  },
  twoWritable: {
    label: 'two writable nodes',
    short: 'two writable',
    unit: 'count',
    about: 'overlaps proven by the outside read_only sampler (every 25 ms)',
  },
} as const satisfies Record<string, MeasureDefinition>;

/** Only some scenarios record these. */
export const SCENARIO_MEASURES = {
  newLeaderMs: {
    label: 'new coordinator leader',
    short: 'new leader',
    unit: 'ms',
    about: 'kill → the etcd leader key names another coordinator (an etcd watch)',
  },
  newRaftLeaderMs: {
    label: 'new etcd raft leader',
    short: 'new raft leader',
    unit: 'ms',
    about: 'kill → a surviving member reports another raft leader (polled every 50 ms)',
  },
  catchUpMs: {
    label: 'catch-up',
    short: 'catch-up',
    unit: 'ms',
    about: "the target's catch-up from a donor, as the promote history entry reports it",
  },
  divergedServers: {
    label: 'servers diverged after a1 returned',
    short: 'diverged',
    unit: 'count',
    about: "servers neither matching the writer's rows and GTIDs nor quarantined",
  },
  sysbenchTransactions: {
    label: 'sysbench transactions',
    short: 'sysbench tx',
    unit: 'count',
    about: 'oltp_write_only transactions committed during the run (4 threads through the write port)',
  },
  blips: {
    label: 'blips applied',
    short: 'blips',
    unit: 'count',
    about: '`lab fault flap` blips (writer stalls, writer-colo cuts, etcd-member stalls) applied in the soak',
  },
  longestBlipGapMs: {
    label: 'longest gap around a blip',
    short: 'blip gap',
    unit: 'ms',
    about: "the measuring client's longest gap overlapping any blip or the 2 s after it",
  },
  gapBeyondBlipMs: {
    label: 'gap beyond its blip',
    short: 'beyond blip',
    unit: 'ms',
    about:
      'the largest (longest gap around a blip − that blip’s effective length): what a blip cost beyond itself',
  },
  sysbenchRestarts: {
    label: 'sysbench restarts',
    short: 'sysbench restarts',
    unit: 'count',
    about: 'times sysbench was started again after a lost connection (it cannot reconnect)',
  },
} as const satisfies Record<string, MeasureDefinition>;

export const MEASURES: Record<MeasureName, MeasureDefinition> = {
  ...STANDARD_MEASURES,
  ...SCENARIO_MEASURES,
};

export type StandardMeasureName = keyof typeof STANDARD_MEASURES;
export type MeasureName = StandardMeasureName | keyof typeof SCENARIO_MEASURES;

/** Report order: the standard measures first, then a scenario's own. */
export const MEASURE_NAMES = Object.keys(MEASURES) as MeasureName[];

export type Measures = Partial<Record<MeasureName, Measure>>;

export function formatValue(value: number, unit: Unit): string {
  return unit === 'ms' ? `${Math.round(value).toLocaleString('en-US')} ms` : String(value);
}
