/**
 * What went wrong in a TLS handshake, read from OpenSSL's and Node's words in an error's text.
 * etcd's gRPC errors and mysql2's handshake errors carry the same texts; each adapter words the
 * outcome with its own config fields (src/etcd/errors.ts, src/mysql/tls.ts).
 */
export type TlsFailure =
  /** The server refused our client certificate, or wanted one and got none (its alert). */
  | 'client-certificate-refused'
  /** The server's certificate does not chain to the CA we trust. */
  | 'server-not-trusted'
  /** The server's certificate is from our CA but does not name the host we connected to. */
  | 'wrong-host'
  /** One side spoke TLS and the other did not. */
  | 'not-tls'
  | 'expired';

export function classifyTlsFailure(detail: string): TlsFailure | undefined {
  if (/alert bad certificate|certificate required|alert unknown ca|alert certificate unknown/i.test(detail))
    return 'client-certificate-refused';
  if (
    /unable to verify|self[- ]signed certificate|unable to get (local )?issuer|certificate verify failed/i.test(
      detail,
    )
  )
    return 'server-not-trusted';
  if (/altname|does not match certificate|Hostname\/IP does not match/i.test(detail)) return 'wrong-host';
  if (/wrong version number|http_request|packet length too long/i.test(detail)) return 'not-tls';
  if (/certificate has expired|certificate is not yet valid/i.test(detail)) return 'expired';
  return undefined;
}
