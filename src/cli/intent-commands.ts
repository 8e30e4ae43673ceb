import { Command } from 'commander';
import { systemClock } from '../clock.js';
import type { Intent } from '../core/index.js';
import type { IntentRequest } from '../ops/submit-intent.js';
import { LabError } from '../lab/errors.js';
import { addTargetOptions, openTarget, singleCluster, type TargetOptions } from './cluster-target.js';
import { action } from './user-error.js';

type WaitOptions = TargetOptions & { wait: boolean; timeout: number };

/**
 * The CLI never changes MySQL itself: it records an intent in etcd and the leader acts on it,
 * so an operator's request obeys the same fencing and epoch rules as an automatic failover.
 */
async function submitAndReport(opts: WaitOptions, request: IntentRequest): Promise<void> {
  const { newIntent, putIntent, readIntent } = await import('../ops/submit-intent.js');
  const target = await openTarget(opts);
  try {
    const cluster = singleCluster(target);
    const intent = newIntent(systemClock, request);
    await target.etcd.attempt((store) => putIntent(store, systemClock, cluster, intent));
    process.stdout.write(`${intent.kind} requested for cluster ${cluster} (intent ${intent.id})\n`);
    if (!opts.wait) return;
    const deadline = Date.now() + opts.timeout * 1000;
    let final: Intent | undefined;
    while (Date.now() < deadline) {
      final = await target.etcd
        .attempt((store) => readIntent(store, systemClock, cluster, intent.id))
        .catch(() => final);
      if (final?.status === 'done' || final?.status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!final || (final.status !== 'done' && final.status !== 'failed')) {
      throw new LabError(
        `no leader finished intent ${intent.id} within ${opts.timeout} s (status: ${final?.status ?? 'unknown'}); it stays queued: check \`baton status\``,
      );
    }
    const answer = final.outcome ? `: ${final.outcome.message} (${final.outcome.reason})` : '';
    if (final.status === 'failed') throw new LabError(`${final.kind} failed${answer || ': no reason given'}`);
    process.stdout.write(`${final.kind} done${answer}\n`);
  } finally {
    target.close();
  }
}

async function dryRun(opts: WaitOptions, request: IntentRequest): Promise<void> {
  const target = await openTarget(opts);
  try {
    const { printDryRun } = await import('./dry-run-command.js');
    await printDryRun(target, singleCluster(target), request);
  } finally {
    target.close();
  }
}

function intentCommand(name: string, description: string): Command {
  const command = new Command(name).description(description);
  return addTargetOptions(command)
    .option('--no-wait', 'return once the request is recorded')
    .option('--timeout <seconds>', 'how long to wait for the leader', (v) => Number(v), 30);
}

export function intentCommands(): Command[] {
  const pin = intentCommand(
    'pin',
    'freeze the writer: no automatic failover until unpin (optionally switch to --node first)',
  )
    .option('--node <name>', 'switch to this node first, then pin')
    .option('--reason <text>', 'why (recorded in history)')
    .action(
      action(async (opts: WaitOptions & { node?: string; reason?: string }) =>
        submitAndReport(opts, { kind: 'pin', node: opts.node, reason: opts.reason }),
      ),
    );

  const unpin = intentCommand('unpin', 'allow automatic failover again')
    .option('--reason <text>', 'why (recorded in history)')
    .action(
      action(async (opts: WaitOptions & { reason?: string }) =>
        submitAndReport(opts, { kind: 'unpin', reason: opts.reason }),
      ),
    );

  const switchover = intentCommand(
    'switchover',
    'planned, lossless move of the writer (fence, catch up, promote)',
  )
    .option('--to <node>', 'target candidate (default: the best other candidate)')
    .option(
      '--dry-run',
      'evaluate every gate against the live state and print the plan; change nothing',
      false,
    )
    .action(
      action(async (opts: WaitOptions & { to?: string; dryRun: boolean }) => {
        const request: IntentRequest = { kind: 'switchover', target: opts.to };
        if (opts.dryRun) await dryRun(opts, request);
        else await submitAndReport(opts, request);
      }),
    );

  const failover = intentCommand(
    'failover',
    'forced failover: promote even if acknowledged writes may be lost',
  )
    .option('--to <node>', 'target candidate (default: the best other candidate)')
    .option(
      '--accept-data-loss',
      'required: you accept that writes the old writer acknowledged may be lost',
      false,
    )
    .option(
      '--dry-run',
      'evaluate every gate against the live state and print the plan; change nothing',
      false,
    )
    .action(
      action(async (opts: WaitOptions & { to?: string; acceptDataLoss: boolean; dryRun: boolean }) => {
        if (!opts.acceptDataLoss) {
          throw new LabError(
            'refusing a forced failover without --accept-data-loss (use `baton switchover` for a lossless move)',
          );
        }
        const request: IntentRequest = { kind: 'failover', target: opts.to, acceptDataLoss: true };
        if (opts.dryRun) await dryRun(opts, request);
        else await submitAndReport(opts, request);
      }),
    );

  const rejoin = intentCommand(
    'rejoin',
    'let a quarantined node rejoin as standby (after dealing with its errant transactions)',
  )
    .argument('<node>')
    .action(
      action(async (node: string, opts: WaitOptions) => submitAndReport(opts, { kind: 'rejoin', node })),
    );

  return [pin, unpin, switchover, failover, rejoin];
}
