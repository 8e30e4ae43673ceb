/**
 * A prefix (or single-key) watch that never silently loses a change.
 *
 * The library resumes a watch after a reconnect from the last revision it saw, but when that
 * revision has been compacted the watch is cancelled with an `error` event, and `error`
 * events nobody listens to are swallowed (FIELD-NOTES). So we keep our own copy of the watched
 * range and, after a cancellation or a reconnect, re-read it, emit the differences as events,
 * and watch again from the read's header.revision + 1. Events at or below the revision of the
 * last re-read are dropped: the re-read already reported them. Events synthesised by a re-read
 * come per key (puts, then deletes), not in revision order: applying them in order still
 * yields exactly the current state, which is what consumers of a watch rely on.
 */
import type { Watcher } from 'etcd3';
import type { KeyValue, Watch, WatchEvent } from '../coordinator/ports.js';
import type { Logger } from '../log.js';
import { fromEtcdKv } from './convert.js';
import { CompactedError } from './errors.js';
import type { EtcdStore } from './store.js';

const READ_TIMEOUT_MS = 2000;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2000;

export class ResyncingWatch implements Watch {
  private readonly known = new Map<string, KeyValue>();
  /** Events with a revision at or below this were already reported by a re-read. */
  private floorRevision: number;
  private lastRevision: number;
  private watcher: Watcher | undefined;
  private closed = false;
  private resyncing = false;
  private retryDelay = RETRY_MIN_MS;
  private needsResyncOnConnect = false;
  /** Number of re-reads done (tests assert that a resync happened). */
  resyncs = 0;

  constructor(
    private readonly store: EtcdStore,
    private readonly range: string,
    fromRevision: number,
    private readonly onEvent: (e: WatchEvent) => void,
    private readonly log: Logger,
    private readonly exactKey = false,
  ) {
    this.lastRevision = fromRevision - 1;
    this.floorRevision = fromRevision - 1;
    void this.start();
  }

  close(): void {
    this.closed = true;
    this.cancelWatcher();
  }

  private async start(): Promise<void> {
    // Seed our copy with the range as it was just before fromRevision, so a later re-read can
    // tell which keys were deleted. If that revision is already compacted, re-read now.
    if (this.lastRevision > 0) {
      try {
        const seed = await this.read({ revision: String(this.lastRevision) });
        for (const kv of seed.kvs) this.known.set(kv.key, kv);
      } catch (err) {
        if (this.closed) return;
        const converted = this.store.convertError(err, `watch ${this.range}: seed read`);
        this.log.warn({ err: converted.message }, 'seed read failed; re-reading current state');
        await this.resync();
        return;
      }
    }
    this.watchFrom(this.lastRevision + 1);
  }

  private read(extra: { revision?: string }): Promise<{ kvs: KeyValue[]; revision: number }> {
    const deadline = this.store.clock.now() + READ_TIMEOUT_MS;
    if (this.exactKey) {
      return this.store.client.kv
        .range({ key: Buffer.from(this.range), ...extra }, this.store.callOptions(deadline))
        .then((res) => ({ kvs: res.kvs.map(fromEtcdKv), revision: Number(res.header.revision) }));
    }
    return this.store.rangePrefix(this.range, deadline, extra);
  }

  private watchFrom(revision: number): void {
    if (this.closed) return;
    const builder = this.store.client.watch();
    const watcher = (this.exactKey ? builder.key(this.range) : builder.prefix(this.range))
      .startRevision(String(revision))
      .watcher();
    this.watcher = watcher;
    watcher.on('put', (kv) => this.deliver('put', fromEtcdKv(kv)));
    watcher.on('delete', (kv) => this.deliver('delete', fromEtcdKv(kv)));
    watcher.on('connected', () => {
      this.retryDelay = RETRY_MIN_MS;
      if (this.needsResyncOnConnect) {
        this.needsResyncOnConnect = false;
        void this.resync();
      }
    });
    watcher.on('disconnected', (err) => {
      // Converted for its side effect too: a stale auth token is renewed before the library's
      // reconnect, which would otherwise present the same rejected token for ever.
      const converted = this.store.convertError(err, `watch ${this.range}`);
      this.log.warn({ err: converted.message }, 'watch stream disconnected; will re-read after reconnect');
      this.needsResyncOnConnect = true;
    });
    // Always listen for errors: without a listener a cancelled watch dies silently.
    watcher.on('error', (err) => {
      if (watcher !== this.watcher) return;
      const converted = this.store.convertError(err, `watch ${this.range}`);
      this.log.warn(
        { err: converted.message, compacted: converted instanceof CompactedError },
        'watch cancelled; re-reading and watching again',
      );
      this.cancelWatcher();
      void this.resync();
    });
  }

  private deliver(type: 'put' | 'delete', kv: KeyValue): void {
    if (this.closed || kv.modRevision <= this.floorRevision) return;
    if (type === 'put') this.known.set(kv.key, kv);
    else this.known.delete(kv.key);
    this.lastRevision = Math.max(this.lastRevision, kv.modRevision);
    this.emit({ type, kv });
  }

  private emit(event: WatchEvent): void {
    try {
      this.onEvent(event);
    } catch (err) {
      this.log.error({ err }, 'watch listener threw');
    }
  }

  /** Re-read the range, report what changed since our copy, and watch again after the read. */
  private async resync(): Promise<void> {
    if (this.closed || this.resyncing) return;
    this.resyncing = true;
    try {
      for (;;) {
        if (this.closed) return;
        try {
          const { kvs, revision } = await this.read({});
          if (this.closed) return;
          this.resyncs += 1;
          const current = new Map(kvs.map((kv) => [kv.key, kv]));
          for (const kv of kvs) {
            const before = this.known.get(kv.key);
            if (!before || before.modRevision !== kv.modRevision) this.emit({ type: 'put', kv });
          }
          for (const [key, before] of this.known) {
            if (!current.has(key)) {
              this.emit({
                type: 'delete',
                kv: { key, value: '', createRevision: 0, modRevision: revision, lease: before.lease },
              });
            }
          }
          this.known.clear();
          for (const [key, kv] of current) this.known.set(key, kv);
          this.floorRevision = Math.max(this.floorRevision, revision);
          this.lastRevision = Math.max(this.lastRevision, revision);
          if (!this.watcher) this.watchFrom(revision + 1);
          return;
        } catch (err) {
          const converted = this.store.convertError(err, `watch ${this.range}: re-read`);
          this.log.warn({ err: converted.message, retryInMs: this.retryDelay }, 're-read failed');
          await new Promise((resolve) => setTimeout(resolve, this.retryDelay));
          this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay * 2);
        }
      }
    } finally {
      this.resyncing = false;
    }
  }

  private cancelWatcher(): void {
    const watcher = this.watcher;
    this.watcher = undefined;
    if (watcher) {
      watcher.removeAllListeners();
      watcher.on('error', () => undefined);
      watcher.cancel().catch(() => undefined);
    }
  }
}
