/**
 * How long a colo's etcd lease outlives a cut of that colo, on etcd alone (no coordinators):
 *   node --import tsx bench/lease-after-cut.ts [--wan PROFILE] [--runs N] [--ttl S] [--leader a|w]
 * Per run: etcd's raft leader placed on `--leader` (a: inside the colo that is cut, the case
 * DESIGN.md "Known limits" describes; w: the witness, where baton keeps it), a lease granted and
 * kept alive from inside site a through etcd-a (as the guardian of colo a does), a key on it;
 * then `lab fault cut a`, and the time until the key is gone as read through the witness member.
 * Needs root (the netns network).
 */
import { execFile, spawn } from 'node:child_process';
import { Etcd3 } from 'etcd3';
import { placeRaftLeader, waitForEtcd } from '../src/lab/etcd-member.js';
import { readLabState } from '../src/lab/lab-state.js';
import { netnsName } from '../src/lab/network.js';
import { faultEffectiveAt, startLab, type Lab } from '../test/integration/support/lab.js';
import { arg } from './cli-args.js';

const KEY = '/bench/lease-after-cut';

function inSiteA(lab: Lab, argv: string[]): Promise<string> {
  const state = readLabState(lab.dir);
  if (!state) throw new Error(`no lab in ${lab.dir}`);
  return new Promise((resolve, reject) => {
    execFile(
      'ip',
      ['netns', 'exec', netnsName(state.network, 'a'), ...argv],
      { timeout: 10_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${argv.join(' ')}: ${stderr}`)) : resolve(stdout),
    );
  });
}

async function runOnce(lab: Lab, ttlSeconds: number, leader: 'a' | 'w'): Promise<number> {
  const status = await lab.status();
  const endpoints = status.etcd.endpoints;
  const [viaA, , viaW] = endpoints as [string, string, string];
  await waitForEtcd(endpoints, 30_000);
  await placeRaftLeader(endpoints, leader, 20_000);
  const etcdctl = ['etcdctl', `--endpoints=${viaA}`, '--command-timeout=5s'];
  const granted = await inSiteA(lab, [...etcdctl, 'lease', 'grant', String(ttlSeconds)]);
  const lease = /lease ([0-9a-f]+) granted/.exec(granted)?.[1];
  if (!lease) throw new Error(`no lease in: ${granted}`);
  await inSiteA(lab, [...etcdctl, 'put', `--lease=${lease}`, KEY, 'held']);
  const state = readLabState(lab.dir);
  const keepAlive = spawn(
    'ip',
    ['netns', 'exec', netnsName(state!.network, 'a'), ...etcdctl, 'lease', 'keep-alive', lease],
    { stdio: 'ignore' },
  );
  const witness = new Etcd3({ hosts: viaW, defaultCallOptions: () => ({ deadline: Date.now() + 1_000 }) });
  try {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const cutAt = faultEffectiveAt(await lab.fault('cut', 'a'));
    const deadline = cutAt + 60_000;
    while (Date.now() < deadline) {
      const value = await witness
        .get(KEY)
        .string()
        .catch(() => 'unknown');
      if (value === null) return Date.now() - cutAt;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('the lease outlived the cut by 60 s');
  } finally {
    keepAlive.kill('SIGKILL');
    witness.close();
    await lab.fault('heal');
  }
}

const wan = arg('wan', 'lan');
const runs = Number(arg('runs', '5'));
const ttlSeconds = Number(arg('ttl', '4'));
const leader = arg('leader', 'a') as 'a' | 'w';
const lab = await startLab({ wan });
try {
  const status = await lab.status();
  console.log(
    `--wan ${wan}: etcd heartbeat ${status.etcd.heartbeatMs} ms, election timeout ${status.etcd.electionTimeoutMs} ms; ` +
      `lease TTL ${ttlSeconds} s; raft leader at ${leader} when site a is cut`,
  );
  const times: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const ms = await runOnce(lab, ttlSeconds, leader);
    times.push(ms);
    console.log(`run ${run}: key gone ${ms} ms after the cut`);
  }
  const sorted = [...times].sort((x, y) => x - y);
  console.log(
    `--wan ${wan} leader ${leader}: min ${sorted[0]} ms, median ${sorted[Math.floor(sorted.length / 2)]} ms, ` +
      `max ${sorted[sorted.length - 1]} ms over ${runs} runs (TTL + 2 s = ${ttlSeconds * 1000 + 2000} ms)`,
  );
} finally {
  await lab.down();
}
