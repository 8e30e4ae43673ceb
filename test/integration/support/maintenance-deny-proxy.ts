/**
 * A gRPC proxy in front of one etcd member that answers chosen methods as newer etcd releases do
 * for a user without the root role, and passes every other call through untouched.
 *
 * Why: etcd 3.4.23 (Debian's, the one this machine has) checks no permission on
 * Maintenance.Status and MoveLeader; etcd 3.6 refuses both to a user without root (its
 * v3rpc/maintenance.go, since PR 14663), and 3.5.28 every maintenance call (etcd issue 21663).
 * To run baton's degradation against a real etcd, this stands in for those releases at the wire:
 * the refusal is exactly theirs (gRPC status 7, "etcdserver: permission denied"), everything
 * else is the real etcd's answer. Messages are forwarded as opaque bytes, metadata (the auth
 * token) and deadlines with them.
 */
import * as grpc from '@grpc/grpc-js';

/** The methods baton and its tests call, by gRPC path and kind. */
const METHODS: Record<string, 'unary' | 'bidi'> = {
  '/etcdserverpb.KV/Range': 'unary',
  '/etcdserverpb.KV/Put': 'unary',
  '/etcdserverpb.KV/DeleteRange': 'unary',
  '/etcdserverpb.KV/Txn': 'unary',
  '/etcdserverpb.KV/Compact': 'unary',
  '/etcdserverpb.Watch/Watch': 'bidi',
  '/etcdserverpb.Lease/LeaseGrant': 'unary',
  '/etcdserverpb.Lease/LeaseRevoke': 'unary',
  '/etcdserverpb.Lease/LeaseTimeToLive': 'unary',
  '/etcdserverpb.Lease/LeaseKeepAlive': 'bidi',
  '/etcdserverpb.Cluster/MemberList': 'unary',
  '/etcdserverpb.Maintenance/Status': 'unary',
  '/etcdserverpb.Maintenance/MoveLeader': 'unary',
  '/etcdserverpb.Maintenance/Alarm': 'unary',
  '/etcdserverpb.Auth/Authenticate': 'unary',
};

export const STATUS = '/etcdserverpb.Maintenance/Status';
export const MOVE_LEADER = '/etcdserverpb.Maintenance/MoveLeader';
export const MEMBER_LIST = '/etcdserverpb.Cluster/MemberList';

/** Headers gRPC sets itself; forwarding them as metadata would duplicate them. */
const TRANSPORT_HEADERS = [
  'content-type',
  'te',
  'user-agent',
  'grpc-accept-encoding',
  'grpc-encoding',
  'grpc-timeout',
  'accept-encoding',
];

const bytes = (value: Buffer): Buffer => value;

function forwardedMetadata(incoming: grpc.Metadata): grpc.Metadata {
  const metadata = incoming.clone();
  for (const header of TRANSPORT_HEADERS) metadata.remove(header);
  return metadata;
}

function denial(): grpc.ServiceError {
  const error = new Error('7 PERMISSION_DENIED: etcdserver: permission denied') as grpc.ServiceError;
  error.code = grpc.status.PERMISSION_DENIED;
  error.details = 'etcdserver: permission denied';
  error.metadata = new grpc.Metadata();
  return error;
}

export interface DenyProxy {
  /** http://127.0.0.1:PORT, or https:// when it serves TLS. */
  url: string;
  /** Paths answered with "permission denied"; change it at any time. */
  denied: Set<string>;
  /** How many calls of each denied path were refused. */
  refusals: Map<string, number>;
  /** Where to forward from now on: host:port of a plain-http etcd client URL. */
  connect(upstream: string): void;
  close(): Promise<void>;
}

/**
 * Listens on a free port of 127.0.0.1 (so an etcd member can be told to advertise it before it
 * starts) and forwards to what `connect` names. With `tls` (PEM), it serves TLS to its clients,
 * so that a config with etcd.auth, which baton refuses over http://, can name it.
 */
export async function startDenyProxy(
  denied: Iterable<string>,
  tls?: { cert: Buffer; key: Buffer },
): Promise<DenyProxy> {
  let client: grpc.Client | undefined;
  const upstream = (): grpc.Client => {
    if (!client) throw new Error('deny proxy: connect() first');
    return client;
  };
  // etcd's own ping policy (5 s, as baton's clients ping): grpc-js would allow one ping per 5
  // minutes without data and drop the connection after two more, which etcd never does.
  const server = new grpc.Server({ 'grpc.http2.min_ping_interval_without_data_ms': 5_000 });
  const proxy: DenyProxy = {
    url: '',
    denied: new Set(denied),
    refusals: new Map(),
    connect(address) {
      client?.close();
      client = new grpc.Client(address, grpc.credentials.createInsecure());
    },
    async close() {
      client?.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
    },
  };
  const refuse = (path: string): boolean => {
    if (!proxy.denied.has(path)) return false;
    proxy.refusals.set(path, (proxy.refusals.get(path) ?? 0) + 1);
    return true;
  };
  for (const [path, kind] of Object.entries(METHODS)) {
    if (kind === 'unary') {
      const handler: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
        if (refuse(path)) return callback(denial());
        upstream().makeUnaryRequest(
          path,
          bytes,
          bytes,
          call.request,
          forwardedMetadata(call.metadata),
          { deadline: call.getDeadline() },
          (error, response) => (error ? callback(error) : callback(null, response)),
        );
      };
      server.register(path, handler, bytes, bytes, 'unary');
    } else {
      const handler: grpc.handleBidiStreamingCall<Buffer, Buffer> = (call) => {
        if (refuse(path)) {
          call.emit('error', denial());
          return;
        }
        const upstreamCall = upstream().makeBidiStreamRequest(
          path,
          bytes,
          bytes,
          forwardedMetadata(call.metadata),
        );
        call.on('data', (message: Buffer) => upstreamCall.write(message));
        call.on('end', () => upstreamCall.end());
        call.on('cancelled', () => upstreamCall.cancel());
        call.on('error', () => upstreamCall.cancel());
        upstreamCall.on('data', (message: Buffer) => call.write(message));
        upstreamCall.on('end', () => call.end());
        upstreamCall.on('error', (error: grpc.ServiceError) => {
          if (error.code !== grpc.status.CANCELLED) call.emit('error', error);
        });
      };
      server.register(path, handler, bytes, bytes, 'bidi');
    }
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      '127.0.0.1:0',
      tls
        ? grpc.ServerCredentials.createSsl(null, [{ private_key: tls.key, cert_chain: tls.cert }], false)
        : grpc.ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  proxy.url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return proxy;
}
