/**
 * Everything `baton doctor` read, as plain data: the gather step (gather.ts) fills it from the
 * live servers and etcd, and the checks (checks/*.ts) are pure functions of it. A fact that
 * could not be read is recorded with why, never guessed, so a check can say "could not tell".
 */
import type { SemiSyncState } from '../core/observation.js';
import type { Flavor } from '../mysql/dialect.js';
import type { ReplicaChannel, ServerSettings } from '../mysql/doctor-dialect.js';
import type { GrantSet } from './grants.js';
import type { ClockOffset } from './clock-offset.js';

export type { ReplicaChannel, ServerSettings, Setting, VariableOrigin } from '../mysql/doctor-dialect.js';

export interface AccountGrants {
  /** The account as the server matched it (CURRENT_USER()), e.g. baton@%. */
  account: string;
  /** What a session has at login: its own grants and its default role's. */
  grants: GrantSet;
  /** What it gets by enabling the other roles granted to it (SET ROLE needs no privilege). */
  roleGrants: GrantSet;
  /** Roles granted to it whose privileges could not be read. */
  unreadRoles: string[];
}

/** What the server said about one application account, logged in as it. */
export interface AppAccountReading {
  user: string;
  grants?: AccountGrants;
  /** Why its grants could not be read (login refused from this host, …). */
  error?: string;
}

export interface ServerReading {
  reachable: true;
  version: string;
  flavor: Flavor;
  settings: ServerSettings;
  replication: ReplicaChannel[];
  semiSync?: SemiSyncState;
  /** The watchdog event; undefined when there is none. */
  watchdogEvent?: { status: string; definer: string };
  baton?: AccountGrants;
  batonGrantsError?: string;
  apps: AppAccountReading[];
  /** The server's clock against this host's (UTC_TIMESTAMP(6) with the round trip as error bars). */
  clock?: ClockOffset;
  /** Round trips of small queries on an open connection, ms. */
  roundTripsMs: number[];
}

export type ServerFacts = ServerReading | { reachable: false; error: string };

export interface NodeSpec {
  name: string;
  colo: string;
  role: 'candidate' | 'replica';
  host: string;
  port: number;
  replicatesFrom?: string;
}

export interface ClusterFacts {
  name: string;
  /** Its position in the config's `clusters`, for fixes that name a config key. */
  configIndex: number;
  policy: 'consistency' | 'availability';
  watchdog: boolean;
  nodes: NodeSpec[];
  /** The writer etcd records; undefined when none is recorded (or etcd could not be read). */
  writer?: { node: string; epoch: number };
  /** Why the cluster's state could not be read from etcd. */
  stateError?: string;
  quarantined: string[];
  /** The application accounts doctor was told about (config `doctor.appUsers`, or the lab's). */
  appUsers: string[];
  /** What each host name of the nodes and their replication sources resolved to from here. */
  addresses: Record<string, string[]>;
  servers: Record<string, ServerFacts>;
}

export interface EtcdMemberFacts {
  name: string;
  id: string;
  clientUrls: string[];
  /** From the member's own status: the raft leader it follows. */
  status?: { leaderId: string };
  statusError?: string;
  /** The status call was refused for lack of permission (etcd auth: maintenance calls need root). */
  statusDenied?: boolean;
  /**
   * Round trips of a linearizable read through this member, ms: forwarded to the raft leader,
   * which confirms its leadership with a quorum first. What the coordinators' state reads take.
   */
  roundTripsMs: number[];
  /**
   * Round trips of a lease query through this member (the TTL of a lease that does not exist):
   * forwarded to the raft leader and answered from its lease table, the path of a keepalive,
   * without writing anything.
   */
  keepaliveRoundTripsMs: number[];
  clock?: ClockOffset;
  clockError?: string;
}

export interface EtcdFacts {
  /** The config's endpoints, in order (coordinators call the first that answers). */
  endpoints: string[];
  members: EtcdMemberFacts[];
  /** Why the member list could not be read (then members is empty). */
  membersError?: string;
  /** The etcd user doctor logs in as (config etcd.auth.user): the coordinators' own. */
  user?: string;
  /** etcd refused the member list for lack of permission (etcd 3.5.28 keeps it to root). */
  membersDenied?: boolean;
  /**
   * Whether etcd lets this user move raft leadership: asked of a follower, which checks the
   * permission first and then answers "not leader" without doing anything. Absent when not asked
   * (no etcd auth, or no follower known).
   */
  moveLeaderPermitted?: boolean;
  /** Endpoints that did not answer at all. */
  unreachable: { endpoint: string; error: string }[];
}

/** The config's timings the checks weigh against what was measured. */
export interface TimingFacts {
  probeTimeoutMs: number;
  cycleIntervalMs: number;
  sessionTtlMs: number;
  reportFreshMs: number;
}

export interface DeploymentFacts {
  /** This host, where the round trips and clock offsets were measured from. */
  host: string;
  takenAt: string;
  timings: TimingFacts;
  /** Every coordinator's colo: the sites etcd members may be attributed to. */
  colos: string[];
  preferredLeader?: string;
  /** The config's `etcd.memberSites`: member name to site, where names do not say. */
  memberSites: Record<string, string>;
  etcd: EtcdFacts;
}

export interface DoctorSnapshot {
  deployment: DeploymentFacts;
  clusters: ClusterFacts[];
}
