import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { configSchema, type BatonConfigFile, type Credentials } from './schema.js';
import { crossCheck, type ConfigProblem } from './cross-checks.js';

/** Every problem in a config file, each with its path, so one edit fixes them all. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      `invalid config ${file}:\n${problems.map((p) => `  ${p.path || '(top level)'}: ${p.message}`).join('\n')}`,
    );
  }
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)),
    '',
  );
}

function schemaProblems(error: z.ZodError): ConfigProblem[] {
  return error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field(s): ${issue.keys.join(', ')}`;
    if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) message = 'required';
    return { path: formatPath(issue.path), message };
  });
}

export function parseConfig(text: string, file: string): BatonConfigFile {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` (line ${error.linePos[0].line})` : '';
    throw new ConfigError(file, [
      { path: '', message: `not valid YAML${where}: ${(error as Error).message.split('\n')[0]}` },
    ]);
  }
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) throw new ConfigError(file, schemaProblems(result.error));
  const problems = crossCheck(result.data);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return result.data;
}

export function loadConfig(file: string): BatonConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [
      {
        path: '',
        message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      },
    ]);
  }
  return parseConfig(text, file);
}

/**
 * Reads a password from the file or environment variable the config names. Trailing newlines
 * in password files are dropped (editors add them); nothing else is trimmed.
 */
export function resolvePassword(
  credentials: Credentials,
  fieldPath: string,
  configFile: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (credentials.passwordFile) {
    try {
      return readFileSync(credentials.passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new ConfigError(configFile, [
        { path: `${fieldPath}.passwordFile`, message: `cannot read ${credentials.passwordFile}: ${code}` },
      ]);
    }
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

/** PEM contents for the etcd client (EtcdClientSettings.tls). */
export interface EtcdTlsMaterial {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PEM_PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

/**
 * Reads `etcd.tls`'s files, each checked for what it must hold (a PEM certificate, a PEM private
 * key), so a wrong file is refused at start with its path instead of surfacing as gRPC's
 * "UNAVAILABLE" later. Undefined when the config has no `etcd.tls`.
 */
export function readEtcdTls(
  tls: BatonConfigFile['etcd']['tls'],
  configFile: string,
): EtcdTlsMaterial | undefined {
  if (!tls) return undefined;
  const problems: ConfigProblem[] = [];
  const read = (field: 'caFile' | 'certFile' | 'keyFile', pattern: RegExp, what: string) => {
    const file = tls[field];
    if (file === undefined) return undefined;
    try {
      const content = readFileSync(file);
      if (!pattern.test(content.toString('latin1'))) {
        problems.push({ path: `etcd.tls.${field}`, message: `${file} is not a PEM ${what}` });
        return undefined;
      }
      return content;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      problems.push({ path: `etcd.tls.${field}`, message: `cannot read ${file}: ${code}` });
      return undefined;
    }
  };
  const ca = read('caFile', PEM_CERTIFICATE, 'certificate');
  const cert = read('certFile', PEM_CERTIFICATE, 'certificate');
  const key = read('keyFile', PEM_PRIVATE_KEY, 'private key');
  if (problems.length > 0 || !ca) throw new ConfigError(configFile, problems);
  return { ca, ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}
