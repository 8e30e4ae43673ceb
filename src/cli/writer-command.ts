/**
 * `baton writer [--watch] [--json]`: where a daemon that must follow the writer (a proxy's
 * config generator, a connection pooler) learns which server takes writes, and when that changes.
 * The record names the node; its host:port come from the node spec the target knows.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { IKeyValue, Watcher } from 'etcd3';
import { systemClock } from '../clock.js';
import { clusterKeys } from '../coordinator/keys.js';
import type { KeyValue } from '../coordinator/ports.js';
import type { WriterRecord } from '../core/index.js';
import type { EtcdClientSettings } from '../etcd/client.js';
import { fromEtcdKv } from '../etcd/convert.js';
import type { EtcdStore } from '../etcd/store.js';
import { LabError } from '../lab/errors.js';
import {
  addTargetOptions,
  openTarget,
  singleCluster,
  type ClusterTarget,
  type TargetOptions,
} from './cluster-target.js';
import { action } from './user-error.js';

/** Per endpoint, as `baton status` reads: with every member cut off we fail within 3 x 1.5 s. */
const READ_TIMEOUT_MS = 1_500;
/**
 * How long, by default, the watch may stay broken (no member serving it) before we stop claiming
 * to follow the writer. It covers an etcd member's restart or an election; a caller that hears
 * nothing for longer must not keep trusting the last line it read (--give-up-after).
 */
const DEFAULT_GIVE_UP_S = 10;
/** Pause after every member failed once, before the next round. */
const RETRY_ROUND_MS = 500;
/** Exit code when etcd answered but holds no writer: the caller may retry later, not fix a setup. */
const NO_WRITER_EXIT_CODE = 2;

type WriterOptions = TargetOptions & { watch: boolean; json: boolean; giveUpAfter: number };

interface WriterLine {
  cluster: string;
  node: string;
  host: string | null;
  port: number | null;
  epoch: number;
  since: number;
  reason: string;
}

function noWriterError(cluster: string, how: string): LabError {
  return new LabError(
    `no writer recorded for cluster ${cluster} (${how}; see \`baton status\`)`,
    NO_WRITER_EXIT_CODE,
  );
}

function decodeWriter(cluster: string, kv: KeyValue): WriterRecord {
  let record: Partial<WriterRecord> | undefined;
  try {
    record = JSON.parse(kv.value) as Partial<WriterRecord>;
  } catch {
    // reported below
  }
  if (typeof record?.node !== 'string' || typeof record.epoch !== 'number') {
    throw new LabError(`unreadable writer record of cluster ${cluster} at revision ${kv.modRevision}`);
  }
  return record as WriterRecord;
}

/** A linearizable read of the writer key, trying each endpoint in turn, each within its deadline. */
async function readWriterKv(target: ClusterTarget, cluster: string): Promise<KeyValue> {
  const key = clusterKeys(cluster).writer;
  const kv = await target.etcd.attempt((store) => store.get(key, systemClock.now() + READ_TIMEOUT_MS));
  if (!kv) throw noWriterError(cluster, 'no coordinator has bootstrapped it yet');
  return kv;
}

/** Prints each writer once, in revision order: the watch and a re-read may report the same one. */
class WriterPrinter {
  private lastModRevision = 0;
  private readonly unknownNoted = new Set<string>();

  constructor(
    private readonly target: ClusterTarget,
    private readonly cluster: string,
    private readonly json: boolean,
  ) {}

  print(kv: KeyValue): void {
    if (kv.modRevision <= this.lastModRevision) return;
    this.lastModRevision = kv.modRevision;
    const record = decodeWriter(this.cluster, kv);
    const address = this.target.nodeAddress(this.cluster, record.node);
    const line: WriterLine = {
      cluster: this.cluster,
      node: record.node,
      host: address?.host ?? null,
      port: address?.port ?? null,
      epoch: record.epoch,
      since: record.since,
      reason: record.reason,
    };
    if (!address && !this.unknownNoted.has(record.node)) {
      this.unknownNoted.add(record.node);
      process.stderr.write(
        `baton: host:port of ${record.node} unknown: no node spec names it (give --config FILE or --lab)\n`,
      );
    }
    const text = this.json
      ? JSON.stringify(line)
      : `${line.node} ${address ? `${address.host}:${address.port}` : 'unknown'} epoch ${line.epoch}`;
    process.stdout.write(`${text}\n`);
  }
}

/**
 * A client of one member that etcd answers only while that member has a raft leader (etcd's
 * "hasleader" metadata, clientv3.WithRequireLeader): a call fails at once, and a watch stream
 * ends, when it has none. Without it a member cut off from the majority keeps a watch open and
 * silent: measured on the lab, `lab fault cut a` left a watch on etcd-a connected with no
 * events; with it the stream ended 3.5 s after the cut.
 */
async function openLeaderBoundStore(settings: EtcdClientSettings, endpoint: string): Promise<EtcdStore> {
  const [{ Etcd3 }, grpc, { etcdClientOptions }, { EtcdStore }] = await Promise.all([
    import('etcd3'),
    import('@grpc/grpc-js'),
    import('../etcd/client.js'),
    import('../etcd/store.js'),
  ]);
  const requireLeader = grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    const metadata = new grpc.Metadata();
    metadata.set('hasleader', 'true');
    callback(null, metadata);
  });
  const options = etcdClientOptions({ ...settings, endpoints: [endpoint] });
  const base = options.defaultCallOptions;
  const client = new Etcd3({
    ...options,
    defaultCallOptions: (context) => ({
      ...(typeof base === 'function' ? base(context) : base),
      credentials: requireLeader,
    }),
  });
  return new EtcdStore(client, systemClock);
}

interface Member {
  endpoint: string;
  store: EtcdStore;
}

/**
 * Follows the writer key until `stop` aborts (resolves), or until no member has served the
 * watch for `giveUpMs` (rejects).
 *
 * We do not let etcd3 reconnect a broken stream: it goes back to the same member (its breakers
 * never see a stream fail, so a leaderless member is picked again and again), and it advances
 * its resume revision when the server confirms the watch, before replayed events arrive. So
 * every (re)start reads the key on the next member, prints it if it is new, and watches from that
 * read's revision + 1 on the same member: nothing between the read and the watch can be missed,
 * and a start revision that recent is never compacted.
 */
class WriterFollower {
  private readonly ended = new AbortController();
  private watcher: Watcher | undefined;
  private giveUpTimer: NodeJS.Timeout | undefined;
  private lastProblem = '';
  private establishing = false;
  private settle: { resolve(): void; reject(error: Error): void } | undefined;

  constructor(
    private readonly members: readonly Member[],
    private readonly cluster: string,
    private readonly printer: WriterPrinter,
    private readonly giveUpMs: number,
  ) {}

  private get key(): string {
    return clusterKeys(this.cluster).writer;
  }

  run(stop: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // A signal that came while the first read was under way: its handler has already run.
      if (stop.aborted) {
        resolve();
        return;
      }
      this.settle = { resolve, reject };
      const onStop = (): void => this.finish();
      const onStdoutError = (err: Error): void =>
        this.finish(new LabError(`cannot write to stdout: ${err.message}`));
      stop.addEventListener('abort', onStop, { once: true });
      // A reader that went away (EPIPE) would otherwise crash us with an unhandled 'error' event.
      process.stdout.on('error', onStdoutError);
      this.ended.signal.addEventListener('abort', () => {
        stop.removeEventListener('abort', onStop);
        process.stdout.off('error', onStdoutError);
      });
      this.broken('not connected yet');
      void this.establish(0);
    });
  }

  private finish(error?: Error): void {
    if (this.ended.signal.aborted) return;
    this.ended.abort();
    clearTimeout(this.giveUpTimer);
    this.dropWatcher();
    if (error) this.settle?.reject(error);
    else this.settle?.resolve();
  }

  private deliver(kv: KeyValue): void {
    try {
      this.printer.print(kv);
    } catch (error) {
      this.finish(error as Error);
    }
  }

  private broken(problem: string): void {
    this.lastProblem = problem.split('\n')[0] ?? problem;
    this.giveUpTimer ??= setTimeout(
      () =>
        this.finish(
          new LabError(
            `lost the watch on ${this.key}: no etcd member served it for ${this.giveUpMs / 1000} s (last error: ${this.lastProblem})`,
          ),
        ),
      this.giveUpMs,
    );
  }

  private healthy(): void {
    clearTimeout(this.giveUpTimer);
    this.giveUpTimer = undefined;
  }

  /** Tries each member in turn from `first` until one reads and watches, or the follow ends. */
  private async establish(first: number): Promise<void> {
    if (this.establishing) return;
    this.establishing = true;
    try {
      while (!this.ended.signal.aborted) {
        for (let i = 0; i < this.members.length && !this.ended.signal.aborted; i++) {
          const index = (first + i) % this.members.length;
          const { endpoint, store } = this.members[index] as Member;
          try {
            const { results, revision } = await store.readAll(
              [{ key: this.key }],
              systemClock.now() + READ_TIMEOUT_MS,
            );
            if (this.ended.signal.aborted) return;
            const kv = results[0]?.[0];
            if (!kv) {
              this.finish(noWriterError(this.cluster, 'its record was deleted'));
              return;
            }
            this.deliver(kv);
            this.watchOn(index, revision + 1);
            return;
          } catch (error) {
            this.broken(`${endpoint}: ${(error as Error).message}`);
          }
        }
        await systemClock.sleep(RETRY_ROUND_MS, this.ended.signal).catch(() => undefined);
      }
    } finally {
      this.establishing = false;
    }
  }

  private watchOn(index: number, revision: number): void {
    const { endpoint, store } = this.members[index] as Member;
    const watcher = store.client.watch().key(this.key).startRevision(String(revision)).watcher();
    this.watcher = watcher;
    const failed = (err: Error): void => {
      if (watcher !== this.watcher) return;
      this.broken(`${endpoint}: ${err.message}`);
      this.dropWatcher();
      void this.establish((index + 1) % this.members.length);
    };
    watcher.on('put', (kv: IKeyValue) => this.deliver(fromEtcdKv(kv)));
    watcher.on('delete', () => this.finish(noWriterError(this.cluster, 'its record was deleted')));
    watcher.on('connected', () => this.healthy());
    watcher.on('disconnected', failed);
    // Also a cancellation by the server (compaction, permissions): without an 'error' listener
    // a cancelled watch dies silently (src/etcd/watch.ts).
    watcher.on('error', failed);
  }

  private dropWatcher(): void {
    const old = this.watcher;
    this.watcher = undefined;
    if (!old) return;
    old.removeAllListeners();
    old.on('error', () => undefined);
    old.cancel().catch(() => undefined);
  }
}

/** Resolves SIGINT and SIGTERM into an abort: a supervisor stopping us is a clean exit (0). */
function abortOnSignals(): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

async function runWriter(opts: WriterOptions): Promise<void> {
  const target = await openTarget(opts);
  const members: Member[] = [];
  const signals = opts.watch ? abortOnSignals() : undefined;
  try {
    const cluster = singleCluster(target);
    const printer = new WriterPrinter(target, cluster, opts.json);
    printer.print(await readWriterKv(target, cluster));
    if (!signals) return;
    for (const endpoint of target.etcdSettings.endpoints)
      members.push({ endpoint, store: await openLeaderBoundStore(target.etcdSettings, endpoint) });
    await new WriterFollower(members, cluster, printer, opts.giveUpAfter * 1000).run(signals.signal);
  } finally {
    signals?.release();
    for (const { store } of members) store.close();
    target.close();
  }
}

function parseGiveUp(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 3600)
    throw new InvalidArgumentError('expected a number of seconds, 1-3600');
  return seconds;
}

export function writerCommand(): Command {
  const command = new Command('writer').description(
    "the current writer's host:port and epoch; with --watch, one more line per change",
  );
  addTargetOptions(command)
    .option('--watch', 'keep following the writer (an etcd watch) until SIGINT/SIGTERM', false)
    .option('--json', 'one JSON object per line', false)
    .option(
      '--give-up-after <seconds>',
      'with --watch: exit 1 once no etcd member served the watch for this long',
      parseGiveUp,
      DEFAULT_GIVE_UP_S,
    )
    .action(action(runWriter));
  return command;
}
