import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { LabNetwork } from './network.js';
import type { ProcessRecord } from './processes.js';
import type { SiteName } from './topology.js';
import { LAN_ETCD_TIMINGS, type EtcdTimings, type LinkDelays, type WanProfileName } from './wan-profile.js';

export type LabProcessKind = 'mariadb' | 'etcd' | 'wan-proxy' | 'coordinator' | 'haproxy';

export interface LabProcess extends ProcessRecord {
  name: string;
  kind: LabProcessKind;
  site?: SiteName;
}

/** What `lab up` started, persisted in DIR/lab.json so every later command finds it. */
export interface LabState {
  version: 1;
  dir: string;
  basePort: number;
  network: LabNetwork;
  processes: Record<string, LabProcess>;
  /** `fault delay` overrides on top of the WAN profile (the delays in effect: wan-profile.ts). */
  faults: { cut: SiteName[]; delays: LinkDelays };
  /** Absent in labs started before profiles existed: those behave as `lan` without jitter. */
  wan?: LabWan;
  /** `lab up --semi-sync`: semi-synchronous replication inside each colo. */
  semiSync?: boolean;
  /** `lab up --haproxy`: HAProxy routes writes to the writer and reads to healthy replicas. */
  haproxy?: boolean;
  /** `lab up --secure`: TLS and auth everywhere (lab-security.ts). */
  secure?: boolean;
  createdAt: string;
}

/** The WAN a lab was started with (`lab up --wan`); fixed for the lab's life. */
export interface LabWan {
  profile: WanProfileName;
  jitterPercent: number;
  /** What the etcd members were started with, derived from the profile. */
  etcd: EtcdTimings;
}

export function labWan(state: LabState): LabWan {
  return state.wan ?? { profile: 'lan', jitterPercent: 0, etcd: LAN_ETCD_TIMINGS };
}

export function statePath(dir: string): string {
  return path.join(dir, 'lab.json');
}

export function readLabState(dir: string): LabState | undefined {
  const file = statePath(dir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as LabState;
}

/** Written atomically: a crash mid-write must not leave a lab that no command can stop. */
export function writeLabState(state: LabState): void {
  const file = statePath(state.dir);
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}
