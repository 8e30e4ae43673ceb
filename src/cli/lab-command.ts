import { Command, Option } from 'commander';
import type { ProcessFault } from '../lab/lab-fault.js';
import { resolveLabDir } from '../lab/lab-layout.js';
import { DEFAULT_BASE_PORT } from '../lab/topology.js';
import { SITES } from '../lab/topology.js';
import { action, parsePort } from './user-error.js';

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

interface LabUpCliOptions {
  dir: string;
  basePort: number;
  network?: 'netns' | 'flat';
  coordinators: boolean;
  policy: 'availability' | 'consistency';
}

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
    .option('--no-coordinators', 'only the databases and etcd, no baton coordinators')
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
        const { etcdClientUrl } = await import('../lab/etcd-member.js');
        const { passwordFile } = await import('../lab/secrets.js');
        const result = await labUp({
          dir,
          basePort: opts.basePort,
          network: opts.network,
          coordinators: opts.coordinators,
          policy: opts.policy,
          log: print,
        });
        if (result.status === 'already-running') {
          print(
            `lab already running in ${dir}; nothing changed (see \`baton lab status --dir ${opts.dir}\`)`,
          );
          return;
        }
        const status = await labStatus(dir);
        print(formatLabStatus(status));
        print('');
        print(
          `app user:   mariadb -h ${status.nodes[0]?.host} -P ${status.nodes[0]?.port} -u app -p"$(cat ${passwordFile(dir, 'app')})" app`,
        );
        print(
          `etcd:       etcdctl --endpoints=${SITES.map((s) => etcdClientUrl(result.state.network, result.state.basePort, s)).join(',')} get --prefix /baton/`,
        );
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
  for (const [name, description] of processFaults) {
    fault
      .command(`${name} <target>`)
      .description(`${description}: a1, a2, b1, b2, etcd-a, etcd-b, etcd-w, coord-a, coord-b, coord-w`)
      .addOption(dirOption())
      .action(
        action(async (target: string, opts: { dir: string }) =>
          print(
            await (await import('../lab/lab-fault.js')).processFault(resolveLabDir(opts.dir), name, target),
          ),
        ),
      );
  }
  fault
    .command('cut <site>')
    .description('isolate a site (a, b or w): packets to and from other sites are dropped')
    .addOption(dirOption())
    .action(
      action(async (site: string, opts: { dir: string }) =>
        print(await (await import('../lab/lab-fault.js')).cutFault(resolveLabDir(opts.dir), site)),
      ),
    );
  fault
    .command('delay <from> <to> <ms>')
    .description('one-way latency on the link from one site to another (0 removes it)')
    .addOption(dirOption())
    .action(
      action(async (from: string, to: string, ms: string, opts: { dir: string }) =>
        print(await (await import('../lab/lab-fault.js')).delayFault(resolveLabDir(opts.dir), from, to, ms)),
      ),
    );
  fault
    .command('heal')
    .description('remove every cut and delay')
    .addOption(dirOption())
    .action(
      action(async (opts: { dir: string }) =>
        print(await (await import('../lab/lab-fault.js')).healFault(resolveLabDir(opts.dir))),
      ),
    );
  return lab;
}
