/**
 * `baton doctor`: resolves the config (or the lab's), reads everything (gather.ts), runs the
 * checks, prints the report. Exit code: 0 without error findings, 1 with, 2 when doctor cannot
 * run as asked (usage: no or two targets, an unknown cluster, an invalid config).
 */
import { existsSync } from 'node:fs';
import { stringify } from 'yaml';
import { systemClock } from '../clock.js';
import { openTarget } from '../cli/cluster-target.js';
import {
  ConfigError,
  loadConfig,
  parseConfig,
  readClusterTls,
  resolvePassword,
} from '../config/load-config.js';
import type { BatonConfigFile } from '../config/schema.js';
import { coordinatorConfig } from '../lab/lab-coordinators.js';
import { readLabState } from '../lab/lab-state.js';
import { WITNESS_SITE } from '../lab/topology.js';
import { LabError } from '../lab/errors.js';
import { resolveLabDir } from '../lab/lab-layout.js';
import { readLabUsers } from '../lab/secrets.js';
import { runChecks } from './checks/index.js';
import { exitCodeFor } from './finding.js';
import { buildReport, formatReport, type Look } from './format.js';
import { gatherSnapshot, type Credential } from './gather.js';

export const USAGE_EXIT_CODE = 2;

export interface DoctorOptions {
  config?: string;
  lab?: string | true;
  cluster?: string;
  json: boolean;
}

export interface DoctorOutput {
  write(text: string): void;
  look: Look;
}

/**
 * The lab's witness coordinator config: the file its coordinator runs with, or, in a lab started
 * without coordinators (`--no-coordinators`, as the tests run it), the config `lab up` would
 * have written for it.
 */
function labConfig(lab: string | true, configFile: string): BatonConfigFile {
  if (existsSync(configFile)) return loadConfig(configFile);
  const dir = resolveLabDir(lab === true ? undefined : lab);
  const state = readLabState(dir);
  if (!state) throw usage(`no lab in ${dir} (start one with \`baton lab up\`)`);
  return parseConfig(stringify(coordinatorConfig(state, WITNESS_SITE, 'availability')), configFile);
}

function usage(message: string): LabError {
  return new LabError(message, USAGE_EXIT_CODE);
}

/** Runs doctor and returns its exit code. */
export async function runDoctor(options: DoctorOptions, out: DoctorOutput): Promise<number> {
  if (options.config !== undefined && options.lab !== undefined)
    throw usage('give either --config FILE or --lab [DIR], not both');
  if (options.config === undefined && options.lab === undefined)
    throw usage('which deployment? give --config FILE (or BATON_CONFIG) or --lab [DIR]');

  let target;
  try {
    target = await openTarget({
      ...(options.config !== undefined ? { config: options.config } : {}),
      // commander gives `true` for a bare --lab; openTarget then takes the default directory.
      ...(options.lab !== undefined ? { lab: options.lab as string } : {}),
      ...(options.cluster !== undefined ? { cluster: options.cluster } : {}),
    });
  } catch (error) {
    if (error instanceof ConfigError) throw usage(error.message);
    throw error;
  }
  try {
    const configFile = target.configFile as string;
    let config;
    let baton: Credential;
    let apps: Credential[];
    let tls;
    try {
      config = options.lab !== undefined ? labConfig(options.lab, configFile) : loadConfig(configFile);
      tls = readClusterTls(config, configFile);
      baton = { user: config.mysql.user, password: resolvePassword(config.mysql, 'mysql', configFile) ?? '' };
      apps = (config.doctor?.appUsers ?? []).map((app, i) => ({
        user: app.user,
        password: resolvePassword(app, `doctor.appUsers[${i}]`, configFile) ?? '',
      }));
    } catch (error) {
      if (error instanceof ConfigError) throw usage(error.message);
      throw error;
    }
    if (options.lab !== undefined) {
      // The lab's coordinators need no application account; doctor checks the lab's own.
      const users = readLabUsers(resolveLabDir(options.lab === true ? undefined : options.lab));
      if (users) apps = [users.app];
    }
    const unknown = target.clusters.filter((c) => !config.clusters.some((k) => k.name === c));
    if (unknown.length > 0)
      throw usage(
        `no cluster ${unknown.join(', ')} in ${configFile} (it has ${config.clusters.map((c) => c.name).join(', ')})`,
      );

    const snapshot = await gatherSnapshot({
      config,
      clusters: target.clusters,
      baton,
      apps,
      tls,
      // The config's endpoints, in its order (the lab's target lists its members by site): the
      // timings are judged on the member the coordinators call first.
      etcdSettings: { ...target.etcdSettings, endpoints: config.etcd.endpoints },
      etcd: target.etcd,
      clock: systemClock,
    });
    const results = runChecks(snapshot);
    const report = buildReport(snapshot, results);
    out.write(
      options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, results, out.look),
    );
    return exitCodeFor(report.findings);
  } finally {
    target.close();
  }
}
