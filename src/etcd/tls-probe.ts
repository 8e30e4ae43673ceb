/**
 * Why an https etcd endpoint refuses us, told by a TLS handshake of our own. gRPC often reports
 * a failed handshake as "No connection established. Last error: null" (always, measured on etcd
 * 3.4, when the first call is etcd3's login, which opens a channel of its own), so the reason is
 * gone by the time an error reaches us. Used on the error path of operator commands only.
 */
import tls from 'node:tls';
import type { EtcdClientSettings } from './client.js';
import { tlsFailure } from './errors.js';

/** How long the server gets to refuse our certificate after the handshake (TLS 1.3 does it then). */
const REFUSAL_WAIT_MS = 300;

export function probeEtcdTls(
  endpoint: string,
  settings: NonNullable<EtcdClientSettings['tls']>,
  timeoutMs: number,
): Promise<string | undefined> {
  const url = new URL(endpoint);
  if (url.protocol !== 'https:') return Promise.resolve(undefined);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (line: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(line);
    };
    const socket = tls.connect({
      host: url.hostname,
      port: Number(url.port || 2379),
      ca: settings.ca,
      ...(settings.cert ? { cert: settings.cert } : {}),
      ...(settings.key ? { key: settings.key } : {}),
      ALPNProtocols: ['h2'],
    });
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.once('secureConnect', () => setTimeout(() => finish(undefined), REFUSAL_WAIT_MS));
    socket.once('error', (error) => finish(tlsFailure(error.message, settings.cert !== undefined)));
  });
}
