/**
 * Builds the etcd3 client every etcd adapter shares. All settings that matter for failure
 * detection live here: gRPC keepalive (without it a partitioned watch never notices), a
 * default deadline as a safety net for any call that forgot ours, and our fault policies.
 */
import { Etcd3, type IOptions } from 'etcd3';
import {
  HostBreakers,
  preferConfiguredOrder,
  retryUnavailable,
  tcpReachable,
  watchBackoff,
} from './fault-policy.js';

export interface EtcdClientSettings {
  /**
   * e.g. ["http://10.0.0.1:2379", "http://10.0.1.1:2379", "http://10.0.2.1:2379"], nearest
   * first: calls go to the first member that answers promptly (see preferConfiguredOrder).
   */
  endpoints: string[];
  /** Password auth; read the password from a file or env by the caller, never from argv. */
  auth?: { username: string; password: string };
  /** PEM contents (not paths). Endpoints must use https:// when set. */
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  /** gRPC keepalive ping interval; etcd rejects pings more frequent than 5 s. Default 5000. */
  keepaliveTimeMs?: number;
  /** How long an unanswered ping waits before the connection is declared dead. Default 2000. */
  keepaliveTimeoutMs?: number;
  /** Deadline for calls made without one (ours always pass one). Default 5000. */
  defaultCallTimeoutMs?: number;
  /** Connection establishment timeout. Default 2000. */
  dialTimeoutMs?: number;
}

/** etcd refuses keepalive pings more often than every 5 s (ENHANCE_YOUR_CALM, connection dropped). */
export const MIN_GRPC_KEEPALIVE_MS = 5000;

/** Member breakers as baton uses them (see fault-policy.ts). */
export function memberBreakers(): HostBreakers {
  return new HostBreakers(2, 1000, 8000, tcpReachable(300), 200);
}

export function etcdClientOptions(
  settings: EtcdClientSettings,
  breakers: HostBreakers = memberBreakers(),
): IOptions {
  if (settings.endpoints.length === 0) throw new Error('etcd: at least one endpoint is required');
  const keepaliveTime = settings.keepaliveTimeMs ?? MIN_GRPC_KEEPALIVE_MS;
  if (keepaliveTime < MIN_GRPC_KEEPALIVE_MS) {
    throw new Error(`etcd: keepaliveTimeMs must be >= ${MIN_GRPC_KEEPALIVE_MS} (etcd rejects faster pings)`);
  }
  const defaultTimeout = settings.defaultCallTimeoutMs ?? 5000;
  const options: IOptions = {
    hosts: settings.endpoints,
    dialTimeout: settings.dialTimeoutMs ?? 2000,
    grpcOptions: {
      'grpc.keepalive_time_ms': keepaliveTime,
      'grpc.keepalive_timeout_ms': settings.keepaliveTimeoutMs ?? 2000,
      // Ping only while a call or stream is open (a watch is one): etcd enforces
      // PermitWithoutStream=false, so a ping on an idle connection is a strike, and after two it
      // answers GOAWAY "too many pings", dropping every stream on the connection (seen in every
      // bench run before this). An idle connection needs no ping: every call has its deadline.
      'grpc.keepalive_permit_without_calls': 0,
      // Reconnect quickly once a member comes back (defaults back off up to 120 s).
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1000,
    },
    // Streams (watch, keepalive) are long-lived: the per-call deadline we pass bounds keepalives.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + defaultTimeout }),
    faultHandling: {
      host: (host) => breakers.policy(host),
      global: retryUnavailable(),
      watchBackoff: watchBackoff(),
    },
  };
  if (settings.auth) options.auth = { username: settings.auth.username, password: settings.auth.password };
  if (settings.tls) {
    options.credentials = { rootCertificate: settings.tls.ca };
    if (settings.tls.key) options.credentials.privateKey = settings.tls.key;
    if (settings.tls.cert) options.credentials.certChain = settings.tls.cert;
  }
  return options;
}

/** `breakers`: pass your own to read the members' latency from them. */
export function createEtcdClient(settings: EtcdClientSettings, breakers = memberBreakers()): Etcd3 {
  const client = new Etcd3(etcdClientOptions(settings, breakers));
  preferConfiguredOrder(client, breakers);
  return client;
}
