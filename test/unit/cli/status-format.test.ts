import { describe, expect, it } from 'vitest';
import { formatClusterState } from '../../../src/cli/status-command.js';
import { readIntentRecord } from '../../../src/coordinator/intent-record.js';
import type { ClusterState } from '../../../src/ops/cluster-state.js';

const KEY = '/baton/lab/intents/';

function stateWith(intents: ClusterState['intents']): ClusterState {
  return {
    cluster: 'lab',
    revision: 7,
    leader: undefined,
    writer: undefined,
    pin: undefined,
    cooldown: undefined,
    operation: undefined,
    quarantine: undefined,
    replicas: undefined,
    observations: {},
    guardians: {},
    intents,
    history: [],
  } as ClusterState;
}

const intentLines = (state: ClusterState): string[] =>
  formatClusterState(state)
    .split('\n')
    .filter((line) => line.trimStart().startsWith('intent:'));

describe('status: intents', () => {
  it('shows an intent put in etcd by hand with what is wrong with it', () => {
    const { intent } = readIntentRecord(
      `${KEY}by-hand`,
      JSON.stringify({
        id: 'by-hand',
        kind: 'switchover',
        by: 'ops@host',
        at: 1,
        status: 'pending',
        target: 7,
      }),
    );
    const [line, ...rest] = intentLines(stateWith([intent]));
    expect(rest).toEqual([]);
    expect(line).toMatch(/^ {2}intent: {4}invalid by-hand pending by ops@host: target: .+/);
  });

  it('shows a valid pending intent on one line, without a problem', () => {
    const { intent } = readIntentRecord(
      `${KEY}i1`,
      JSON.stringify({ id: 'i1', kind: 'pin', by: 'ops@host', at: 1, status: 'pending' }),
    );
    expect(intentLines(stateWith([intent]))).toEqual(['  intent:    pin i1 pending by ops@host']);
  });

  it('keeps a key with a line break in it on one line', () => {
    const { intent } = readIntentRecord(`${KEY}bad\nid`, 'not json');
    const lines = intentLines(stateWith([intent]));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('not JSON');
  });
});
