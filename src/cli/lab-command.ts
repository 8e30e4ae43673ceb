import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ProcessFault } from '../lab/lab-fault.js';
import { resolveLabDir } from '../lab/lab-layout.js';
import { DEFAULT_BASE_PORT } from '../lab/topology.js';

import {
  DEFAULT_JITTER_PERCENT,
  DEFAULT_WAN_PROFILE,
  WAN_PROFILES,
  WAN_PROFILE_NAMES,
  type WanProfileName,
} from '../lab/wan-profile.js';
import { action, parsePort } from './user-error.js';

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

interface LabUpCliOptions {
  dir: string;
  basePort: number;
  network?: 'netns' | 'flat';
  wan?: WanProfileName;
  jitter: number;
  coordinators: boolean;
  policy: 'availability' | 'consistency';
  semiSync: boolean;
  haproxy: boolean;
  hooks?: string;
  sessionTtl?: number;
  secure: boolean;
}

function parseJitterPercent(value: string): number {
  const percent = Number(value);
  if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
    throw new InvalidArgumentError('expected a percentage from 0 to 100');
  }
  return percent;
}

/** Whole seconds: etcd's lease TTL unit (the config checks the rest, with its reasons). */
function parseSessionTtl(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 1_000 || ms > 60_000 || ms % 1_000 !== 0) {
    throw new InvalidArgumentError(
      'expected whole seconds in ms, 1000-60000 (etcd leases have whole-second TTLs)',
    );
  }
  return ms;
}

const profileHelp = WAN_PROFILE_NAMES.map((name) => {
  const { colosMs, witnessMs, resembles } = WAN_PROFILES[name];
  const delays = colosMs === witnessMs ? `${colosMs} ms` : `${colosMs} ms a-b, ${witnessMs} ms to w`;
  return `${name} ${delays} (${resembles})`;
}).join('; ');

export function labCommand(): Command {
  const lab = new Command('lab').description(
    'a local lab: 3-site etcd + dual-master MariaDB with replicas, on loopback, with WAN faults',
  );
  const dirOption = () => new Option('--dir <dir>', 'lab directory').default('./.baton-lab');

  lab
    .command('up')
    .description('start the lab (idempotent: a running lab is reported, not changed)')
    .addOption(dirOption())
    .option('--base-port <port>', 'first port of the lab', parsePort, DEFAULT_BASE_PORT)
    .addOption(
      new Option(
        '--network <mode>',
        'netns: a namespace per site with real partitions (root); flat: all on 127.0.0.1',
      ).choices(['netns', 'flat']),
    )
    .addOption(
      new Option(
        '--wan <profile>',
        `one-way delays between the sites (default: ${DEFAULT_WAN_PROFILE}; any other needs the netns network): ${profileHelp}`,
      ).choices(WAN_PROFILE_NAMES),
    )
    .option(
      '--jitter <percent>',
      'each chunk is held up to this share of its link delay longer',
      parseJitterPercent,
      DEFAULT_JITTER_PERCENT,
    )
    .option('--no-coordinators', 'only the databases and etcd, no baton coordinators')
    .option(
      '--semi-sync',
      "semi-synchronous replication inside each colo: a master waits (AFTER_SYNC, up to 1 s) for its colo's replica to ACK",
      false,
    )
    .option(
      '--secure',
      'TLS and auth everywhere: a lab CA, etcd with client certificates, peer TLS and RBAC users, MariaDB with TLS required of baton and replication (README "Secure lab")',
      false,
    )
    .option(
      '--haproxy',
      'start HAProxy: a write port that follows the writer and a read port over healthy replicas (checked against the coordinators)',
      false,
    )
    .option('--hooks <file>', 'YAML: hooks for the lab cluster, as under clusters[].hooks (README "Hooks")')
    .option(
      '--session-ttl <ms>',
      'the coordinators\' session TTL (timings.sessionTtlMs): longer rides out longer blips, shorter fails over sooner (README "Choosing the session TTL")',
      parseSessionTtl,
    )
    .addOption(
      new Option('--policy <policy>', 'failover policy of the lab cluster')
        .choices(['availability', 'consistency'])
        .default('availability'),
    )
    .action(
      action(async (opts: LabUpCliOptions) => {
        const dir = resolveLabDir(opts.dir);
        const { labUp } = await import('../lab/lab-up.js');
        const { formatLabStatus, labStatus } = await import('../lab/lab-status.js');
        const { labEtcdctlHint } = await import('../lab/lab-etcd-access.js');
        const { passwordFile } = await import('../lab/secrets.js');
        const result = await labUp({
          dir,
          basePort: opts.basePort,
          network: opts.network,
          wan: opts.wan,
          jitterPercent: opts.jitter,
          coordinators: opts.coordinators,
          policy: opts.policy,
          semiSync: opts.semiSync,
          haproxy: opts.haproxy,
          secure: opts.secure,
          ...(opts.hooks !== undefined ? { hooksFile: path.resolve(opts.hooks) } : {}),
          ...(opts.sessionTtl !== undefined ? { sessionTtlMs: opts.sessionTtl } : {}),
          log: print,
        });
        if (result.status === 'already-running') {
          const running = result.state.wan?.profile ?? 'lan';
          const other =
            opts.wan && opts.wan !== running ? ` (for --wan ${opts.wan}, \`baton lab down\` it first)` : '';
          print(
            `lab already running in ${dir} with WAN profile ${running}; nothing changed${other} ` +
              `(see \`baton lab status --dir ${opts.dir}\`)`,
          );
          return;
        }
        const status = await labStatus(dir);
        print(formatLabStatus(status));
        print('');
        // Passwords through the environment: a command line is readable by every local user.
        print(
          `app user:   MYSQL_PWD="$(cat ${passwordFile(dir, 'app')})" mariadb -h ${status.nodes[0]?.host} -P ${status.nodes[0]?.port} -u app app`,
        );
        print(`etcd:       ${labEtcdctlHint(result.state)} get --prefix /baton/`);
        print(`passwords:  ${dir}/secrets.json (mode 0600)`);
        print(`lab up in ${result.seconds.toFixed(1)} s; stop it with \`baton lab down --dir ${opts.dir}\``);
      }),
    );

  lab
    .command('down')
    .description('stop every lab process and remove its data (unless --keep)')
    .addOption(dirOption())
    .option('--keep', 'keep data and logs', false)
    .action(
      action(async (opts: { dir: string; keep: boolean }) => {
        const dir = resolveLabDir(opts.dir);
        const { readLabState } = await import('../lab/lab-state.js');
        const { stopLab } = await import('../lab/lab-down.js');
        const state = readLabState(dir);
        if (!state) {
          print(`no lab in ${dir}; nothing to stop`);
          return;
        }
        const started = Date.now();
        await stopLab(state, { keep: opts.keep });
        print(
          `lab down in ${((Date.now() - started) / 1000).toFixed(1)} s${opts.keep ? ` (data kept in ${dir})` : ''}`,
        );
      }),
    );

  lab
    .command('status')
    .description('processes, endpoints, the writer and replication state')
    .addOption(dirOption())
    .option('--json', 'machine-readable output (stable, documented in README)', false)
    .action(
      action(async (opts: { dir: string; json: boolean }) => {
        const { formatLabStatus, labStatus } = await import('../lab/lab-status.js');
        const status = await labStatus(resolveLabDir(opts.dir));
        print(opts.json ? JSON.stringify(status, null, 2) : formatLabStatus(status));
      }),
    );

  const fault = lab
    .command('fault')
    .description('inject faults: process crashes and hangs, WAN cuts and latency');
  const processFaults: [ProcessFault, string][] = [
    ['kill', 'SIGKILL a node or etcd member (a crash)'],
    ['stop', 'SIGSTOP a node or etcd member (a hang)'],
    ['cont', 'SIGCONT a stopped node or etcd member'],
    ['start', 'restart a killed node or etcd member'],
  ];
  const forOption = (what: string) =>
    new Option('--for <seconds>', `${what} itself after this many seconds, and report when (a blip)`);
  for (const [name, description] of processFaults) {
    const command = fault
      .command(`${name} <target>`)
      .description(`${description}: a1, a2, b1, b2, etcd-a, etcd-b, etcd-w, coord-a, coord-b, coord-w`)
      .addOption(dirOption());
    if (name === 'stop') command.addOption(forOption('continue it (SIGCONT)'));
    command.action(
      action(async (target: string, opts: { dir: string; for?: string }) => {
        const faults = await import('../lab/lab-fault.js');
        const dir = resolveLabDir(opts.dir);
        if (opts.for !== undefined) await faults.timedStop(dir, target, opts.for, print);
        else print(await faults.processFault(dir, name, target));
      }),
    );
  }
  fault
    .command('cut <site>')
    .description('isolate a site (a, b or w): packets to and from other sites are dropped')
    .addOption(forOption('lift the cut'))
    .addOption(dirOption())
    .action(
      action(async (site: string, opts: { dir: string; for?: string }) => {
        const faults = await import('../lab/lab-fault.js');
        const dir = resolveLabDir(opts.dir);
        if (opts.for !== undefined) await faults.timedCut(dir, site, opts.for, print);
        else print(await faults.cutFault(dir, site));
      }),
    );
  fault
    .command('flap')
    .description(
      'a seeded random schedule of blips: writer stalls (0.1-1 s), writer-colo cuts (0.1-1.5 s) and etcd-member stalls (0.1-1 s), 1-5 s apart',
    )
    .requiredOption('--for <minutes>', 'how long to keep flapping')
    .option('--seed <n>', 'the schedule seed (printed; the same seed replays the same schedule)')
    .option('--json', 'one JSON object per blip (start, end, effective length)', false)
    .addOption(dirOption())
    .action(
      action(async (opts: { for: string; seed?: string; json: boolean; dir: string }) => {
        const { flapFault } = await import('../lab/lab-flap.js');
        await flapFault(
          resolveLabDir(opts.dir),
          { minutes: opts.for, json: opts.json, ...(opts.seed === undefined ? {} : { seed: opts.seed }) },
          print,
        );
      }),
    );
  fault
    .command('delay <from> <to> <ms>')
    .description(
      "one-way latency on the link from one site to another, in place of the profile's (heal restores the profile)",
    )
    .addOption(dirOption())
    .action(
      action(async (from: string, to: string, ms: string, opts: { dir: string }) =>
        print(await (await import('../lab/lab-fault.js')).delayFault(resolveLabDir(opts.dir), from, to, ms)),
      ),
    );
  fault
    .command('heal')
    .description("lift every cut, end a spike, and return every link to the WAN profile's delay")
    .addOption(dirOption())
    .action(
      action(async (opts: { dir: string }) =>
        print(await (await import('../lab/lab-fault.js')).healFault(resolveLabDir(opts.dir))),
      ),
    );
  fault
    .command('spike')
    .description('every link delay times a factor for a while, then back (latency spikes for soak tests)')
    .requiredOption('--factor <n>', 'multiply every link delay in effect by this (1-100)')
    .requiredOption('--for <seconds>', 'how long the spike lasts')
    .option('--no-wait', 'return once the spike has begun (the WAN proxy ends it on time)')
    .addOption(dirOption())
    .action(
      action(async (opts: { factor: string; for: string; wait: boolean; dir: string }) => {
        const { spikeFault } = await import('../lab/lab-fault.js');
        await spikeFault(
          resolveLabDir(opts.dir),
          { factor: opts.factor, seconds: opts.for, wait: opts.wait },
          print,
        );
      }),
    );
  return lab;
}
