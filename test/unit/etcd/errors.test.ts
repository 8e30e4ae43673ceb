import * as etcd3 from 'etcd3';
import { describe, expect, it } from 'vitest';
import { DeadlineExceededError } from '../../../src/coordinator/ports.js';
import {
  CompactedError,
  LeaseLostError,
  StaleAuthTokenError,
  StoreAuthError,
  StorePermissionError,
  StoreRequestError,
  StoreUnavailableError,
  isRetryable,
  tlsFailure,
  toStoreError,
} from '../../../src/etcd/errors.js';
import { HostCircuitOpenError } from '../../../src/etcd/fault-policy.js';

describe('toStoreError', () => {
  const cases: Array<[string, Error, new (...args: never[]) => Error, boolean]> = [
    [
      'unavailable',
      new etcd3.GRPCUnavailableError('14 UNAVAILABLE: No connection established'),
      StoreUnavailableError,
      true,
    ],
    ['circuit open', new HostCircuitOpenError('127.0.0.1:2379'), StoreUnavailableError, true],
    ['deadline', new etcd3.GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED'), DeadlineExceededError, true],
    ['bad password', new etcd3.EtcdAuthenticationFailedError('authentication failed'), StoreAuthError, false],
    ['expired token', new etcd3.EtcdInvalidAuthTokenError('invalid auth token'), StaleAuthTokenError, true],
    [
      'token from before an auth change',
      new etcd3.EtcdError('etcdserver: revision of auth store is old'),
      StaleAuthTokenError,
      true,
    ],
    ['no credentials', new etcd3.GRPCUnauthenticatedError('16 UNAUTHENTICATED'), StoreAuthError, false],
    ['permission', new etcd3.EtcdPermissionDeniedError('permission denied'), StorePermissionError, false],
    ['lease gone', new etcd3.EtcdLeaseInvalidError('123'), LeaseLostError, false],
    [
      'compacted',
      new etcd3.EtcdError('etcdserver: mvcc: required revision has been compacted'),
      CompactedError,
      true,
    ],
    ['invalid argument', new etcd3.GRPCInvalidArgumentError('bad request'), StoreRequestError, false],
    ['internal', new etcd3.GRPCInternalError('boom'), StoreRequestError, true],
  ];
  for (const [name, raw, expected, retryable] of cases) {
    it(`${name} -> ${expected.name} (retryable=${retryable})`, () => {
      const converted = toStoreError(raw, 'get /k');
      expect(converted).toBeInstanceOf(expected);
      expect(converted.message).toMatch(/^get \/k: /);
      expect(isRetryable(converted)).toBe(retryable);
      expect((converted as Error & { cause?: unknown }).cause).toBe(raw);
    });
  }

  it('says that "unavailable" may be a TLS misconfiguration', () => {
    const converted = toStoreError(new etcd3.GRPCUnavailableError('14 UNAVAILABLE'), 'put /k');
    expect(converted.message).toMatch(/TLS/);
  });

  it('names the etcd user etcd refused, when the caller says which', () => {
    const user = { user: 'baton-viewer' };
    expect(
      toStoreError(new etcd3.EtcdPermissionDeniedError('permission denied'), 'put /baton/lab/pin', user)
        .message,
    ).toBe(
      'put /baton/lab/pin: etcd permission denied: no role of etcd user baton-viewer grants this key range',
    );
    expect(
      toStoreError(new etcd3.EtcdAuthenticationFailedError('authentication failed'), 'get /k', user).message,
    ).toBe('get /k: etcd authentication failed: wrong password for etcd user baton-viewer, or no such user');
  });

  it('passes already converted errors through unchanged', () => {
    const err = new LeaseLostError('gone');
    expect(toStoreError(err, 'x')).toBe(err);
  });

  it('treats unknown non-library errors as not retryable', () => {
    expect(isRetryable(toStoreError(new TypeError('bug'), 'x'))).toBe(false);
    expect(isRetryable('string')).toBe(false);
  });
});

describe('NotLeaderError', () => {
  it("is the loop's NotLeaderError, so the loop recognises leadership loss from the real store", async () => {
    const { NotLeaderError } = await import('../../../src/etcd/errors.js');
    const { NotLeaderError: LoopNotLeaderError } = await import('../../../src/coordinator/errors.js');
    const err = new NotLeaderError('/baton/lab/leader/1f is gone');
    expect(err).toBeInstanceOf(LoopNotLeaderError);
    expect(err.message).toBe('election: not leader (/baton/lab/leader/1f is gone)');
    expect(isRetryable(err)).toBe(false);
    expect(toStoreError(err, 'x')).toBe(err);
  });
});

describe('tlsFailure: what a failed handshake means', () => {
  it.each([
    ['SSL alert number 42 (alert bad certificate)', false, /requires a client certificate/],
    ['SSL alert number 42 (alert bad certificate)', true, /rejected our client certificate/],
    ['Error: unable to verify the first certificate', true, /not signed by etcd\.tls\.caFile/],
    ['self-signed certificate in certificate chain', false, /not signed by etcd\.tls\.caFile/],
    ["Hostname/IP does not match certificate's altnames", false, /does not name this endpoint/],
    ['ssl3_get_record:wrong version number', false, /plain-http etcd endpoint/],
    ['certificate has expired', true, /validity period/],
  ])('%s (client certificate: %s)', (detail, clientCertificate, meaning) => {
    expect(tlsFailure(detail, clientCertificate)).toMatch(meaning);
  });

  it('says nothing about TLS for an ordinary outage', () => {
    expect(tlsFailure('No connection established. Last error: connect ECONNREFUSED', false)).toBeUndefined();
  });
});
