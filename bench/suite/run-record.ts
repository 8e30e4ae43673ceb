/** What the suite keeps of one run: its measures, its timeline, and what else it noticed. */
import type { Policy } from '../goals.js';
import type { Measures } from './measures.js';
import type { Timeline } from './timeline.js';

export interface RunRecord {
  scenario: string;
  policy: Policy;
  /** 1-based. */
  run: number;
  startedAt: string;
  /** Lab up to lab down. */
  durationMs: number;
  /** Time zero (epoch ms) and what happened then. */
  zero: { at: number; label: string };
  measures: Measures;
  /** Facts that are not figures: a catch-up's donor, sysbench's summary, a1's fate. */
  notes: string[];
  timeline: Timeline;
}

export interface RunFailure {
  scenario: string;
  policy: Policy;
  run: number;
  startedAt: string;
  durationMs: number;
  error: string;
}

export type RunOutcome = ({ ok: true } & RunRecord) | ({ ok: false } & RunFailure);

/** What a scenario's run function returns; the runner adds who, when and how long. */
export type ScenarioResult = Pick<RunRecord, 'zero' | 'measures' | 'notes' | 'timeline'>;
