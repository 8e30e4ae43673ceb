import { describe, expect, it } from 'vitest';
import {
  describeKeys,
  fromEtcdKv,
  leaseIdToHex,
  prefixRangeEnd,
  toEtcdCompare,
  toEtcdOp,
} from '../../../src/etcd/convert.js';
import { etcdClientOptions } from '../../../src/etcd/client.js';
import {
  HostBreakers,
  retryUnavailable,
  tcpReachable,
  watchBackoff,
} from '../../../src/etcd/fault-policy.js';
import net from 'node:net';
import * as etcd3 from 'etcd3';

describe('etcd conversions', () => {
  it('computes the range end of a prefix', () => {
    expect(prefixRangeEnd('/baton/a/').toString()).toBe('/baton/a0');
    expect(prefixRangeEnd('ab')).toEqual(Buffer.from('ac'));
  });

  it('names the keys of a call for its error message', () => {
    expect(describeKeys(['/baton/lab/intents/x'])).toBe('/baton/lab/intents/x');
    expect(describeKeys(['/baton/lab/leader/1', '/baton/lab/leader/1'])).toBe('/baton/lab/leader/1');
    expect(describeKeys(['/baton/lab/writer', '/baton/lab/observations/*', '/baton/lab/pin'])).toBe(
      '3 keys under /baton/lab/',
    );
    expect(describeKeys(['/baton/lab/writer', '/baton/orders/writer'])).toBe('2 keys under /baton/');
    expect(describeKeys(['a', 'b'])).toBe('2 keys');
  });

  it('writes lease ids in hex like etcd Go clients and etcdctl', () => {
    expect(leaseIdToHex('7587872866027859946')).toBe('694d8a2b5c6a6fea');
  });

  it('maps compares and ops to the wire format', () => {
    expect(toEtcdCompare({ key: '/k', target: 'createRevision', equals: 0 })).toEqual({
      key: Buffer.from('/k'),
      target: 'Create',
      result: 'Equal',
      create_revision: '0',
    });
    expect(toEtcdCompare({ key: '/k', target: 'modRevision', equals: 7 })).toMatchObject({
      target: 'Mod',
      mod_revision: '7',
    });
    expect(toEtcdCompare({ key: '/k', target: 'value', equals: 'v' })).toMatchObject({
      target: 'Value',
      value: Buffer.from('v'),
    });
    expect(toEtcdOp({ put: '/k', value: 'v', lease: '42' })).toEqual({
      request_put: { key: Buffer.from('/k'), value: Buffer.from('v'), lease: '42' },
    });
    expect(toEtcdOp({ delete: '/k' })).toEqual({ request_delete_range: { key: Buffer.from('/k') } });
    expect(toEtcdOp({ deletePrefix: '/p/' })).toEqual({
      request_delete_range: { key: Buffer.from('/p/'), range_end: Buffer.from('/p0') },
    });
  });

  it('reads key-values with numeric revisions and no lease when unbound', () => {
    const kv = fromEtcdKv({
      key: Buffer.from('/k'),
      value: Buffer.from('{"a":1}'),
      create_revision: '3',
      mod_revision: '9',
      version: '2',
      lease: '0',
    });
    expect(kv).toEqual({ key: '/k', value: '{"a":1}', createRevision: 3, modRevision: 9 });
  });
});

describe('etcd client options', () => {
  it('sets gRPC keepalive, a default deadline and our fault policies', () => {
    const options = etcdClientOptions({ endpoints: ['http://a:2379', 'http://b:2379'] });
    expect(options.hosts).toEqual(['http://a:2379', 'http://b:2379']);
    expect(options.grpcOptions?.['grpc.keepalive_time_ms']).toBeGreaterThanOrEqual(5000);
    expect(options.grpcOptions?.['grpc.keepalive_timeout_ms']).toBeGreaterThan(0);
    // etcd enforces PermitWithoutStream=false: a ping on an idle connection earns a GOAWAY.
    expect(options.grpcOptions?.['grpc.keepalive_permit_without_calls']).toBe(0);
    const call =
      typeof options.defaultCallOptions === 'function'
        ? options.defaultCallOptions({ service: 'KV', method: 'range', isStream: false, params: {} })
        : undefined;
    expect(call?.deadline).toBeDefined();
  });

  it('refuses keepalive pings faster than etcd accepts, and no endpoints', () => {
    expect(() => etcdClientOptions({ endpoints: ['http://a:2379'], keepaliveTimeMs: 1000 })).toThrow(/5000/);
    expect(() => etcdClientOptions({ endpoints: [] })).toThrow(/endpoint/);
  });
});

describe('fault policies', () => {
  const unavailable = (): never => {
    throw new etcd3.GRPCUnavailableError('14 UNAVAILABLE');
  };

  it('skips a failing member while another may answer, then lets a call probe it again', async () => {
    const breakers = new HostBreakers(2, 50);
    const [a] = [breakers.policy('a'), breakers.policy('b')];
    let calls = 0;
    const failing = () => {
      calls++;
      return unavailable();
    };
    await expect(a.execute(failing)).rejects.toThrow();
    await expect(a.execute(failing)).rejects.toThrow();
    await expect(a.execute(failing)).rejects.toThrow(/skipped/);
    expect(calls).toBe(2);
    await new Promise((r) => setTimeout(r, 60));
    await expect(a.execute(() => 'ok')).resolves.toBe('ok');
  });

  it('keeps a member that fails its trial calls closed twice as long each time, until one succeeds', async () => {
    const breakers = new HostBreakers(1, 100, 1000);
    const [a] = [breakers.policy('a'), breakers.policy('b')];
    const openFor = async (): Promise<number> => {
      const start = Date.now();
      while ((await a.execute(() => 'ok').catch((e: Error) => e.message)) !== 'ok') {
        await new Promise((r) => setTimeout(r, 5));
      }
      return Date.now() - start;
    };
    await expect(a.execute(unavailable)).rejects.toThrow(); // open 100 ms
    await new Promise((r) => setTimeout(r, 110));
    await expect(a.execute(unavailable)).rejects.toThrow(); // trial failed: open 200 ms
    expect(await openFor()).toBeGreaterThanOrEqual(180);
    await expect(a.execute(unavailable)).rejects.toThrow(); // after a success: back to 100 ms
    expect(await openFor()).toBeLessThan(180);
  });

  it('with a reachability check, spends no real call on a member until the check says it answers', async () => {
    let answers = false;
    const checked: string[] = [];
    const breakers = new HostBreakers(1, 50, 1000, (host) => {
      checked.push(host);
      return Promise.resolve(answers);
    });
    const [a] = [breakers.policy('a'), breakers.policy('b')];
    let calls = 0;
    const call = () => {
      calls++;
      return 'ok';
    };
    await expect(a.execute(unavailable)).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 60)); // open time over: the call starts a check, is skipped
    await expect(a.execute(call)).rejects.toThrow(/skipped/);
    expect(checked).toEqual(['a']);
    await new Promise((r) => setTimeout(r, 10)); // the check failed: skipped for another 50 ms
    await expect(a.execute(call)).rejects.toThrow(/skipped/);
    expect(checked).toEqual(['a']);
    answers = true;
    await new Promise((r) => setTimeout(r, 60));
    await expect(a.execute(call)).rejects.toThrow(/skipped/); // starts the second check
    await new Promise((r) => setTimeout(r, 5));
    await expect(a.execute(call)).resolves.toBe('ok');
    expect(checked).toEqual(['a', 'a']);
    expect(calls).toBe(1);
  });

  it('tcpReachable: true for a listening port, false for a closed one', async () => {
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as net.AddressInfo).port;
    const check = tcpReachable(500);
    expect(await check(`http://127.0.0.1:${port}`)).toBe(true);
    server.close();
    await new Promise((r) => server.once('close', r));
    expect(await check(`http://127.0.0.1:${port}`)).toBe(false);
  });

  it('skips nobody when every member is failing: the first call after recovery goes through', async () => {
    const breakers = new HostBreakers(2, 10_000);
    const [a, b] = [breakers.policy('a'), breakers.policy('b')];
    for (const p of [a, a, b, b]) await expect(p.execute(unavailable)).rejects.toThrow();
    await expect(a.execute(() => 'recovered')).resolves.toBe('recovered');
  });

  it('orders members as configured (nearest first), putting skipped and stalled ones last', async () => {
    const breakers = new HostBreakers(1, 10_000);
    const [a, b] = [
      breakers.policy('http://a:2379'),
      breakers.policy('http://b:2379'),
      breakers.policy('http://c:2379'),
    ];
    const hosts = [{ host: 'a:2379' }, { host: 'b:2379' }, { host: 'c:2379' }];
    const order = () =>
      breakers
        .preferenceOrder(hosts)
        .map((h) => h.host[0])
        .join('');
    expect(order()).toBe('abc');
    // a answers fast; then a call to it hangs well past its usual latency: the next call (a
    // hedged keepalive) goes to b first.
    await a.execute(() => 'ok');
    let release: () => void = () => undefined;
    const hanging = a.execute(() => new Promise<string>((r) => (release = () => r('late'))));
    await new Promise((r) => setTimeout(r, 80));
    expect(order()).toBe('bca');
    release();
    await hanging;
    expect(order()).toBe('abc');
    // b failing is skipped: it goes last.
    await expect(b.execute(unavailable)).rejects.toThrow();
    expect(order()).toBe('acb');
  });

  it('retries only unavailable errors', async () => {
    const policy = retryUnavailable(3);
    let calls = 0;
    await expect(policy.execute(() => (calls++, unavailable()))).rejects.toThrow();
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      policy.execute(() => {
        calls++;
        throw new etcd3.GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED');
      }),
    ).rejects.toThrow();
    expect(calls).toBe(1);
  });

  it('backs off watch reconnects up to a bound', () => {
    let backoff = watchBackoff(100, 400).next(undefined);
    const durations = [];
    for (let i = 0; i < 5; i++) {
      durations.push(backoff.duration);
      backoff = backoff.next(undefined);
    }
    expect(durations).toEqual([100, 200, 400, 400, 400]);
  });
});
