import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { parseDocument, YAMLError } from 'yaml';
import type { z } from 'zod';
import { formatPath, oneLine, valueAt } from '../problem-text.js';
import type { MysqlTls } from '../mysql/tls.js';
import { configSchema, type BatonConfigFile, type Credentials, type TlsFiles } from './schema.js';
import { crossCheck, type ConfigProblem } from './cross-checks.js';

/** A config far larger than any real one (200 clusters take about 100 KB) is a mistake. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Problems listed in the error; a file wrong everywhere gets a count for the rest. */
const MAX_PROBLEMS_LISTED = 30;

/** Every problem in a config file, each with its path, so one edit fixes them all. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly problems: ConfigProblem[];
  constructor(
    readonly file: string,
    problems: ConfigProblem[],
  ) {
    const clean = problems.map((p) => ({ path: oneLine(p.path), message: oneLine(p.message) }));
    const listed = clean
      .slice(0, MAX_PROBLEMS_LISTED)
      .map((p) => `  ${p.path || '(top level)'}: ${p.message}`);
    if (clean.length > listed.length) listed.push(`  … and ${clean.length - listed.length} more`);
    super(`invalid config ${oneLine(file)}:\n${listed.join('\n')}`);
    this.problems = clean;
  }
}

/** A key as written when it is a plain word, quoted (escaped, cut) when it is anything else. */
function fieldName(key: string): string {
  return /^[A-Za-z0-9_.-]{1,60}$/.test(key) ? key : JSON.stringify(oneLine(key, 60));
}

function schemaProblems(error: z.ZodError, raw: unknown): ConfigProblem[] {
  return error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'unrecognized_keys')
      message = `unknown field(s): ${issue.keys.map(fieldName).join(', ')}`;
    // A field's own message says what it expects; a missing one is simply required.
    if (issue.code === 'invalid_type' && valueAt(raw, issue.path) === undefined) message = 'required';
    return { path: formatPath(issue.path), message };
  });
}

export function parseConfig(text: string, file: string): BatonConfigFile {
  if (text.length > MAX_CONFIG_BYTES) {
    throw new ConfigError(file, [
      { path: '', message: `${text.length} characters, more than a config may have (${MAX_CONFIG_BYTES})` },
    ]);
  }
  let raw: unknown;
  try {
    // Nothing on stderr: what the parser would warn about is a problem in the error below.
    const doc = parseDocument(text, { logLevel: 'error' });
    // A warning is YAML the file's author did not mean either (an unresolved tag such as `!vault`).
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) throw problem;
    raw = doc.toJS();
  } catch (error) {
    // YAMLError for the syntax; others for what the parser refuses to build (too many aliases)
    // or cannot (nesting deeper than the stack). The first line of the parser's message usually
    // names line and column itself ("… at line 3, column 7:").
    const first =
      (error instanceof Error ? error.message : String(error)).split('\n')[0]?.replace(/:$/, '') ?? '';
    const where =
      error instanceof YAMLError && error.linePos && !/ at line \d/.test(first)
        ? ` (line ${error.linePos[0].line})`
        : '';
    throw new ConfigError(file, [{ path: '', message: `not valid YAML${where}: ${first}` }]);
  }
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) throw new ConfigError(file, schemaProblems(result.error, raw));
  const problems = crossCheck(result.data);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return result.data;
}

export function loadConfig(file: string): BatonConfigFile {
  let text: string;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const { size } = fstatSync(fd);
    if (size > MAX_CONFIG_BYTES) {
      throw new ConfigError(file, [
        { path: '', message: `${size} bytes, more than a config may have (${MAX_CONFIG_BYTES})` },
      ]);
    }
    text = readFileSync(fd, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(file, [
      {
        path: '',
        message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      },
    ]);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return parseConfig(text, file);
}

/** Longer than any password; a file this big was named by mistake. */
/** Larger than any password or private key; a file this big was named by mistake. */
const MAX_SECRET_FILE_BYTES = 64 * 1024;

/**
 * The contents of a file that holds a secret (a password, a private key), or why it is refused:
 * it must be a regular file (a FIFO would hang the start) that only its owner can read (0600 or
 * 0400). One that its group or everybody can read has already leaked, and baton says so, with
 * the fix, rather than use it. The mode checked is that of the file opened, not of whatever the
 * path named a moment earlier.
 */
function readSecretFile(file: string): { content: Buffer } | { refused: string } {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const stat = fstatSync(fd);
    if (!stat.isFile()) return { refused: `${file} is not a regular file` };
    if ((stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      const who = stat.mode & 0o007 ? 'every user' : 'its group';
      return {
        refused: `${file} can be read by ${who} (mode ${mode}); make it owner-only: chmod 600 ${file}`,
      };
    }
    if (stat.size > MAX_SECRET_FILE_BYTES)
      return { refused: `${file} is ${stat.size} bytes, too large for a secret` };
    return { content: readFileSync(fd) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { refused: `cannot read ${file}: ${code}` };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function readPlainFile(file: string): { content: Buffer } | { refused: string } {
  try {
    return { content: readFileSync(file) };
  } catch (error) {
    return {
      refused: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    };
  }
}

/**
 * Reads a password from the file or environment variable the config names. Trailing newlines
 * in password files are dropped (editors add them); nothing else is trimmed. A password file
 * must be owner-only (readSecretFile).
 */
export function resolvePassword(
  credentials: Credentials,
  fieldPath: string,
  configFile: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (credentials.passwordFile) {
    const read = readSecretFile(credentials.passwordFile);
    if ('refused' in read)
      throw new ConfigError(configFile, [{ path: `${fieldPath}.passwordFile`, message: read.refused }]);
    return read.content.toString('utf8').replace(/\r?\n$/, '');
  }
  if (credentials.passwordEnv) {
    const value = env[credentials.passwordEnv];
    if (value === undefined) {
      throw new ConfigError(configFile, [
        {
          path: `${fieldPath}.passwordEnv`,
          message: `environment variable ${credentials.passwordEnv} is not set`,
        },
      ]);
    }
    return value;
  }
  return undefined;
}

/** PEM contents of a `tls` section (etcd's, or a cluster's for its MySQL servers). */
export interface TlsMaterial {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PEM_PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/**
 * Reads a `tls` section's files, each checked for what it must hold (a PEM certificate, a PEM
 * private key), so a wrong file is refused at start with its path (`at`.caFile...) instead of
 * surfacing as a failed handshake later.
 */
function readTlsFiles(tls: TlsFiles, at: string, configFile: string): TlsMaterial {
  const problems: ConfigProblem[] = [];
  const read = (field: 'caFile' | 'certFile' | 'keyFile', pattern: RegExp, what: string) => {
    const file = tls[field];
    if (file === undefined) return undefined;
    // The private key is a secret like a password file, and held to the same mode.
    const got = field === 'keyFile' ? readSecretFile(file) : readPlainFile(file);
    if ('refused' in got) {
      problems.push({ path: `${at}.${field}`, message: got.refused });
      return undefined;
    }
    if (!pattern.test(got.content.toString('latin1'))) {
      problems.push({ path: `${at}.${field}`, message: `${file} is not a PEM ${what}` });
      return undefined;
    }
    return got.content;
  };
  const ca = read('caFile', PEM_CERTIFICATE, 'certificate');
  const cert = read('certFile', PEM_CERTIFICATE, 'certificate');
  const key = read('keyFile', PEM_PRIVATE_KEY, 'private key');
  if (problems.length > 0 || !ca) throw new ConfigError(configFile, problems);
  return { ca, ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/** `etcd.tls`'s files for the etcd client (EtcdClientSettings.tls); undefined without it. */
export function readEtcdTls(
  tls: BatonConfigFile['etcd']['tls'],
  configFile: string,
): TlsMaterial | undefined {
  return tls ? readTlsFiles(tls, 'etcd.tls', configFile) : undefined;
}

/**
 * Each cluster's `tls` for its MySQL servers (MysqlEndpoint.tls), by cluster name; a cluster
 * without it is absent (its connections are plaintext).
 */
export function readClusterTls(config: BatonConfigFile, configFile: string): Map<string, MysqlTls> {
  const byCluster = new Map<string, MysqlTls>();
  config.clusters.forEach((cluster, i) => {
    if (!cluster.tls) return;
    const material = readTlsFiles(cluster.tls, `clusters[${i}].tls`, configFile);
    byCluster.set(cluster.name, { ...material, verifyIdentity: cluster.tls.verifyIdentity });
  });
  return byCluster;
}
