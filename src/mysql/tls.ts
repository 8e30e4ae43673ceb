/**
 * TLS to a cluster's MySQL/MariaDB servers (`clusters[].tls`), for every connection baton makes.
 *
 * What mysql2 3.24 does (lib/base/connection.js `startTLS`, lib/connection_config.js):
 * `rejectUnauthorized` defaults to true, so the chain is checked against `ca`. The host name is
 * checked only with `verifyIdentity: true`, which is off by default, and then it is checked wrongly
 * for a server addressed by IP: mysql2 passes no `servername` for an IP, and Node's TLS then checks
 * the certificate against "localhost" (measured: a certificate naming 127.0.0.1, reached at
 * 127.0.0.1, fails with "Host: localhost. is not cert's CN: 127.0.0.1"; one naming DNS:localhost
 * would pass for every IP). So baton turns mysql2's check off and makes its own, against the host
 * it connected to, on the TLS socket once the handshake is done and before mysql2 sends the
 * credentials (an impostor holding any certificate of the CA would otherwise get the login, and
 * could relay it to the real server).
 */
import tls from 'node:tls';
import type mysql from 'mysql2';
import { classifyTlsFailure } from '../tls-failure.js';

/** A cluster's TLS settings with its files read (config/load-config.ts readClusterTls). */
export interface MysqlTls {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** The server's certificate must name the host baton connects to (DNS name or IP SAN). */
  verifyIdentity: boolean;
}

/**
 * mysql2's `ssl` option. A new object per connection on purpose: mysql2 caches TLS sessions per
 * `ssl` object, and a resumed session skips the certificate checks (Node's and mysql2's), so every
 * connection makes a full handshake and is checked in full.
 */
export function mysql2Ssl(settings: MysqlTls): mysql.SslOptions {
  return {
    ca: settings.ca,
    ...(settings.cert ? { cert: settings.cert } : {}),
    ...(settings.key ? { key: settings.key } : {}),
    rejectUnauthorized: true,
    // Checked by checkHostBeforeLogin instead: see the file comment.
    verifyIdentity: false,
  };
}

/** The part of mysql2's Connection that upgrades to TLS (not in its typings). */
interface UpgradingConnection {
  stream: tls.TLSSocket;
  startTLS(onSecure: (error?: Error) => void): void;
}

/**
 * Hooks the connection's TLS upgrade: `onUpgrade` gets the TLS socket as the upgrade starts (the
 * stall watch follows it: mysql2 stops reading the plain socket), and with `verifyIdentity` the
 * server's certificate must name `host` before the handshake goes on to the login. mysql2 calls
 * startTLS(onSecure) from its handshake and sends the credentials from onSecure, so an error
 * handed to onSecure ends the connection before any credential leaves (HANDSHAKE_SSL_ERROR).
 */
export function hookTlsUpgrade(
  core: mysql.Connection,
  host: string,
  verifyIdentity: boolean,
  onUpgrade: (socket: tls.TLSSocket) => void,
): void {
  const conn = core as unknown as UpgradingConnection;
  const startTLS = conn.startTLS as unknown;
  // Fail closed: a mysql2 without this method would skip the host check without a word.
  if (typeof startTLS !== 'function') throw new Error('mysql2 has no startTLS to hook: cannot check TLS');
  conn.startTLS = (onSecure) => {
    (startTLS as UpgradingConnection['startTLS']).call(conn, (error) => {
      if (error || !verifyIdentity) return onSecure(error);
      onSecure(tls.checkServerIdentity(host, conn.stream.getPeerCertificate(true)));
    });
    onUpgrade(conn.stream);
  };
}

/** mysql2's errors from a TLS upgrade. */
const NO_TLS_ON_SERVER = 'HANDSHAKE_NO_SSL_SUPPORT';
const HANDSHAKE_FAILED = 'HANDSHAKE_SSL_ERROR';
/**
 * Node's own codes: under TLS 1.3 the server checks our certificate after our side of the
 * handshake is done, so its refusal arrives as an alert on the open socket
 * (ERR_SSL_TLSV1_ALERT_UNKNOWN_CA, measured against MariaDB 10.11), not as mysql2's error.
 */
const NODE_TLS_CODE = /^ERR_(SSL|TLS)_/;

/**
 * What a failed TLS upgrade means, in one line naming the config field to look at; undefined
 * when `err` is not a TLS failure. `host`: what baton connected to.
 */
export function tlsFailureLine(err: { code?: string; message?: string }, host: string): string | undefined {
  if (err.code === NO_TLS_ON_SERVER)
    return 'the server does not offer TLS (no ssl_cert and ssl_key in its config), and clusters[].tls requires it';
  if (err.code !== HANDSHAKE_FAILED && !NODE_TLS_CODE.test(err.code ?? '')) return undefined;
  const detail = err.message ?? '';
  switch (classifyTlsFailure(detail)) {
    case 'server-not-trusted':
      return "the server's certificate is not signed by clusters[].tls.caFile";
    case 'wrong-host':
      return `the server's certificate does not name ${host} in its subjectAltName (clusters[].tls.verifyIdentity is on)`;
    case 'client-certificate-refused':
      return 'the server refused our client certificate: clusters[].tls.certFile is not signed by a CA it trusts (its ssl_ca)';
    case 'expired':
      return "a certificate is outside its validity period (the server's or clusters[].tls.certFile)";
    default:
      return `TLS handshake failed: ${detail}`;
  }
}

/** The line for a login that only TLS would have let in (connection.ts tells it apart). */
export const PLAINTEXT_REFUSED =
  'the account requires TLS (REQUIRE SSL) and this connection is plaintext: set clusters[].tls for this cluster';
