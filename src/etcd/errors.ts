/**
 * The one place where etcd3 / gRPC errors become baton errors. Callers above this layer never
 * see a library class: they see a StoreError subclass with a `retryable` marker that says
 * whether trying again (same call, maybe another member) can help.
 */
import * as etcd3 from 'etcd3';
import { NotLeaderError as LoopNotLeaderError } from '../coordinator/errors.js';
import { DeadlineExceededError } from '../coordinator/ports.js';
import { classifyTlsFailure } from '../tls-failure.js';

export abstract class StoreError extends Error {
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** No member answered. Also what a TLS misconfiguration looks like from gRPC. */
export class StoreUnavailableError extends StoreError {
  override name = 'StoreUnavailableError';
  readonly retryable = true;
}

/** Wrong user or password, or an auth token etcd no longer accepts. Retrying will not help. */
export class StoreAuthError extends StoreError {
  override name = 'StoreAuthError';
  readonly retryable: boolean = false;
}

/**
 * etcd no longer accepts our auth token: it expired (simple tokens live --auth-token-ttl without
 * use) or the auth store changed since it was issued ("revision of auth store is old", after any
 * user or role change). A new token fixes it; the etcd3 client renews one only when a unary call
 * fails with "invalid auth token", never for streams (watches, lease keepalives) nor for an old
 * revision (verified in etcd3's connection-pool.js), so EtcdStore renews it (renewAuthToken).
 */
export class StaleAuthTokenError extends StoreAuthError {
  override name = 'StaleAuthTokenError';
  override readonly retryable = true;
}

/** The user's role does not cover the key (etcd role permissions are per prefix). */
export class StorePermissionError extends StoreError {
  override name = 'StorePermissionError';
  readonly retryable = false;
}

/** The lease is gone at the server (expired or revoked): everything bound to it is gone too. */
export class LeaseLostError extends StoreError {
  override name = 'LeaseLostError';
  readonly retryable = false;
}

/** Our own lease deadline passed: we can no longer prove the lease is alive. */
export class SessionExpiredError extends StoreError {
  override name = 'SessionExpiredError';
  readonly retryable = false;
}

/**
 * The leader key we campaigned with no longer exists or is no longer the lowest. A subclass of
 * the loop's own NotLeaderError, so `instanceof` in the loop (which then gives up leadership
 * and campaigns again) holds for the real adapter as it does for the simulated one.
 */
export class NotLeaderError extends LoopNotLeaderError {
  readonly retryable = false;
}

/** A watch or read asked for a revision etcd has already compacted away. */
export class CompactedError extends StoreError {
  override name = 'CompactedError';
  readonly retryable = true;
}

/** Anything else the library or server reported (bad request, internal error...). */
export class StoreRequestError extends StoreError {
  override name = 'StoreRequestError';
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when the same call may succeed if tried again (deadlines and outages, not auth or logic). */
export function isRetryable(err: unknown): boolean {
  if (err instanceof StoreError || err instanceof NotLeaderError) return err.retryable;
  if (err instanceof DeadlineExceededError) return true;
  return false;
}

const TLS_HINT =
  'etcd unreachable on every endpoint. If the members are up, check TLS: a wrong CA, client ' +
  'certificate or http/https scheme also surfaces as "unavailable" in gRPC';

/**
 * What a TLS handshake failure means, from OpenSSL's and Node's words in gRPC's "unavailable"
 * detail; undefined when the detail names no TLS failure. `clientCertificate`: whether we sent
 * one (etcd answers both "none" and "not from a CA I trust" with the same alert).
 */
export function tlsFailure(detail: string, clientCertificate: boolean): string | undefined {
  switch (classifyTlsFailure(detail)) {
    case 'client-certificate-refused':
      return clientCertificate
        ? 'etcd rejected our client certificate: etcd.tls.certFile is not signed by a CA etcd trusts (its --trusted-ca-file), or lacks the clientAuth usage'
        : 'etcd requires a client certificate (--client-cert-auth): set etcd.tls.certFile and etcd.tls.keyFile';
    case 'server-not-trusted':
      return "etcd's server certificate is not signed by etcd.tls.caFile";
    case 'wrong-host':
      return "etcd's server certificate does not name this endpoint's host (its subjectAltName)";
    case 'not-tls':
      return 'TLS to a plain-http etcd endpoint, or plain http to a TLS one: check http:// and https:// in etcd.endpoints';
    case 'expired':
      return "a certificate is outside its validity period (etcd's or ours)";
    case undefined:
      return undefined;
  }
}

/** What the caller knows about its own client, for the wording of an error. */
export interface ErrorContext {
  /** Whether the client sends a TLS certificate (a failed handshake means a different mistake). */
  clientCertificate?: boolean;
  /** The etcd user it logs in as (config etcd.auth.user), named when etcd refuses it. */
  user?: string;
}

/**
 * Convert anything thrown by etcd3 into a baton error. `what` names the operation and its keys
 * for the message ("get /baton/lab/writer"). Already-converted errors pass through unchanged.
 */
export function toStoreError(err: unknown, what: string, context: ErrorContext = {}): Error {
  const { clientCertificate = false, user } = context;
  if (
    err instanceof StoreError ||
    err instanceof DeadlineExceededError ||
    err instanceof LoopNotLeaderError
  ) {
    return err;
  }
  const detail = err instanceof Error ? err.message : String(err);
  const options = { cause: err };
  if (err instanceof etcd3.GRPCDeadlineExceededError) {
    return new DeadlineExceededError(`${what}: etcd deadline exceeded (${detail})`, options);
  }
  if (err instanceof etcd3.EtcdAuthenticationFailedError) {
    return new StoreAuthError(
      user === undefined
        ? `${what}: etcd authentication failed: wrong user name or password`
        : `${what}: etcd authentication failed: wrong password for etcd user ${user}, or no such user`,
      options,
    );
  }
  if (
    err instanceof etcd3.EtcdInvalidAuthTokenError ||
    /invalid auth token|revision of auth store is old/.test(detail)
  ) {
    return new StaleAuthTokenError(`${what}: etcd no longer accepts our auth token (${detail})`, options);
  }
  if (err instanceof etcd3.GRPCUnauthenticatedError) {
    return new StoreAuthError(`${what}: etcd rejected our credentials (${detail})`, options);
  }
  if (err instanceof etcd3.EtcdPermissionDeniedError) {
    return new StorePermissionError(
      user === undefined
        ? `${what}: etcd permission denied: the user's role does not grant this key range`
        : `${what}: etcd permission denied: no role of etcd user ${user} grants this key range`,
      options,
    );
  }
  if (err instanceof etcd3.EtcdLeaseInvalidError) {
    return new LeaseLostError(`${what}: lease not found (expired or revoked)`, options);
  }
  if (err instanceof etcd3.GRPCUnavailableError || err instanceof etcd3.ClientClosedError) {
    const tls = tlsFailure(detail, clientCertificate);
    if (tls) return new StoreUnavailableError(`${what}: ${tls}`, options);
    return new StoreUnavailableError(`${what}: ${TLS_HINT} (${detail})`, options);
  }
  if (/compacted/i.test(detail)) {
    return new CompactedError(`${what}: revision compacted (${detail})`, options);
  }
  if (err instanceof Error && /circuit|breaker/i.test(err.constructor.name + detail)) {
    return new StoreUnavailableError(`${what}: ${TLS_HINT} (${detail})`, options);
  }
  const retryable = err instanceof Error && etcd3.isRecoverableError(err);
  return new StoreRequestError(`${what}: ${detail}`, retryable, options);
}
