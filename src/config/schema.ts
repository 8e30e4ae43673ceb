import { z } from 'zod';
import { DEFAULT_TIMINGS } from '../core/timings.js';
import { CONTROL_CHARACTERS } from '../problem-text.js';

/**
 * The YAML file `baton run --config FILE` reads. Secrets are never values in this file: only
 * `passwordFile` (a path) or `passwordEnv` (a variable name), so configs can be shared and
 * committed and nothing secret reaches argv or logs.
 */

/*
 * Every value is bounded (issue 15): a string by its length and characters, a list by its
 * entries, a number by its range, and every object refuses keys it does not know. A config is
 * written by hand, so a slip (a pasted blob, a key at the wrong depth) is named with its path at
 * load instead of being carried into argv, logs or etcd. The bounds are far above any real value.
 */

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected a name of lowercase letters, digits, "-" or "_" (max 63)');

const noControlCharacters = (s: string) => !CONTROL_CHARACTERS.test(s);
const NO_CONTROL_CHARACTERS = 'expected no control characters (newline, tab, NUL...)';

/** Free text of at most `max` characters, on one line (it ends up in argv, logs and errors). */
const text = (max: number) =>
  z
    .string({ error: `expected a string of 1-${max} characters` })
    .min(1, `expected a string of 1-${max} characters`)
    .max(max, `expected a string of 1-${max} characters`)
    .refine(noControlCharacters, NO_CONTROL_CHARACTERS);

/** At most `max` entries. */
const list = <T extends z.ZodType>(item: T, max: number) =>
  z.array(item).max(max, `expected at most ${max} entries`);

/** A file path, as the kernel bounds it (PATH_MAX). */
const filePath = text(4096);
/** One argv word of a hook or fence command, and how many a command may have. */
const commandArgv = list(text(4096), 64).min(1, 'expected the program and its arguments');
const port = z
  .number({ error: 'expected integer 1-65535' })
  .int('expected integer 1-65535')
  .min(1, 'expected integer 1-65535')
  .max(65535, 'expected integer 1-65535');
const ms = (min: number, max: number) =>
  z
    .number({ error: `expected integer ${min}-${max} (ms)` })
    .int(`expected integer ${min}-${max} (ms)`)
    .min(min, `expected integer ${min}-${max} (ms)`)
    .max(max, `expected integer ${min}-${max} (ms)`);

const secretSource = z
  .object({
    passwordFile: filePath.optional(),
    passwordEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/, 'expected an environment variable name (max 255)')
      .optional(),
  })
  .strict();

/**
 * TLS files: the CA that signed the servers' certificates, and optionally a client certificate
 * and its key (both or neither: cross-checks.ts). The key is a secret file (load-config.ts).
 */
const tlsFiles = z
  .object({
    caFile: filePath,
    certFile: filePath.optional(),
    keyFile: filePath.optional(),
  })
  .strict();

/** MariaDB allows user names of up to 80 characters; etcd has no limit of its own. */
const credentials = secretSource.extend({ user: text(128) }).strict();

/** One hook: argv run without a shell, killed (its whole process group) at its timeout. */
export const hookSchema = z
  .object({
    argv: commandArgv,
    timeoutMs: ms(100, 600_000).default(5_000),
  })
  .strict();
const hook = hookSchema;

export const nodeSchema = z
  .object({
    name,
    colo: name,
    role: z.enum(['candidate', 'replica']),
    host: z
      .string()
      .regex(/^[A-Za-z0-9._:%-]{1,253}$/, 'expected a host name or IP address (max 253 characters)'),
    port,
    priority: z.number().int().min(0).max(1000).default(100),
    replicatesFrom: name.optional(),
  })
  .strict();

export const clusterSchema = z
  .object({
    name,
    flavor: z.enum(['mariadb', 'mysql']).default('mariadb'),
    policy: z.enum(['consistency', 'availability']),
    maxLagOnFailoverMs: ms(0, 3_600_000).default(5_000),
    cooldownMs: ms(0, 86_400_000).default(300_000),
    failoverBudget: z
      .object({ count: z.number().int().min(1).max(100), windowMs: ms(60_000, 7 * 86_400_000) })
      .strict()
      .default({ count: 3, windowMs: 3_600_000 }),
    catchupTimeoutMs: ms(100, 600_000).default(10_000),
    /**
     * STONITH for a writer SQL cannot fence (hung mysqld, dead host that may return): argv run
     * without a shell, with {cluster} {node} {host} {port} expanded (also in BATON_* env vars).
     * Exit 0 must mean the node can no longer take writes. Without it a hung writer is never
     * failed over automatically: it may resume writable.
     */
    fenceCommand: commandArgv.optional(),
    fenceCommandTimeoutMs: ms(100, 120_000).default(5_000),
    /**
     * Commands run when the writer moves (README "Hooks"): argv without a shell, data in BATON_*
     * environment variables, never a secret. `beforePromote` failing or timing out vetoes the
     * promotion; the others only report. None runs inside the decision loop.
     */
    hooks: z
      .object({
        beforePromote: hook.optional(),
        afterWriterChange: hook.optional(),
        onFence: hook.optional(),
        onFailoverSkipped: hook.optional(),
      })
      .strict()
      .default({}),
    /**
     * Vouch for the writer to its watchdog event (DESIGN.md "Watchdog"), so a writer whose
     * guardian died closes itself where nobody can reach it. Harmless where the event is not
     * installed; needs a sessionTtlMs long enough for a once-a-second event.
     */
    watchdog: z.boolean().default(true),
    /**
     * TLS to this cluster's servers, for every connection baton makes to them: the server's
     * certificate must chain to caFile (always), and with verifyIdentity (the default) also name
     * the host baton connects to, as a DNS name or an IP address in its subjectAltName.
     */
    tls: tlsFiles
      .extend({ verifyIdentity: z.boolean().default(true) })
      .strict()
      .optional(),
    nodes: list(nodeSchema, 64).min(2, 'expected at least 2 nodes (two candidate masters)'),
  })
  .strict();

/** Defaults, what each value means and the rules between them: core/timings.ts. */
export const timingsSchema = z
  .object({
    /** One observe → publish → decide → guard cycle this often. */
    cycleIntervalMs: ms(20, 60_000).default(DEFAULT_TIMINGS.cycleIntervalMs),
    probeTimeoutMs: ms(10, 60_000).default(DEFAULT_TIMINGS.probeTimeoutMs),
    storeTimeoutMs: ms(50, 60_000).default(DEFAULT_TIMINGS.storeTimeoutMs),
    commandTimeoutMs: ms(50, 60_000).default(DEFAULT_TIMINGS.commandTimeoutMs),
    sessionTtlMs: ms(1_000, 600_000).default(DEFAULT_TIMINGS.sessionTtlMs),
    publishRefreshMs: ms(100, 600_000).default(DEFAULT_TIMINGS.publishRefreshMs),
    /**
     * While all is quiet, nodes nothing depends on this cycle (replicas, the other colo's
     * candidate) are probed this often rather than every cycle; any trouble probes all again.
     */
    quietProbeIntervalMs: ms(20, 600_000).default(DEFAULT_TIMINGS.quietProbeIntervalMs),
    reportFreshMs: ms(200, 600_000).default(DEFAULT_TIMINGS.reportFreshMs),
    /** Hysteresis: down after this many consecutive failures spanning at least downAfterMs. */
    downAfterFailures: z.number().int().min(1).max(100).default(DEFAULT_TIMINGS.downAfterFailures),
    downAfterMs: ms(0, 600_000).default(DEFAULT_TIMINGS.downAfterMs),
    upAfterSuccesses: z.number().int().min(1).max(100).default(DEFAULT_TIMINGS.upAfterSuccesses),
  })
  .strict();

export const configSchema = z
  .object({
    coordinator: z.object({ name, colo: name }).strict(),
    coordinators: list(z.object({ name, colo: name }).strict(), 32).min(1),
    etcd: z
      .object({
        endpoints: list(
          z
            .string()
            .regex(/^https?:\/\/[^/\s]{1,300}$/, 'expected http(s)://host:port (max 300 characters)')
            .refine(noControlCharacters, NO_CONTROL_CHARACTERS),
          32,
        ).min(1),
        auth: credentials.optional(),
        /**
         * TLS to etcd (endpoints must be https://): the CA that signed the members' certificates,
         * and for `--client-cert-auth` a client certificate and its key (both or neither).
         */
        tls: tlsFiles.optional(),
        /**
         * etcd member name (its --name) that should hold raft leadership: the witness site's.
         * The baton leader moves it there when it is elsewhere (see src/etcd/raft-leader.ts);
         * omitted, raft leadership is left to etcd.
         */
        preferredLeader: name.optional(),
        /**
         * The site of each etcd member whose name does not say it (`baton doctor` checks that
         * losing any one site keeps etcd's quorum): member name → site. A member named after a
         * colo (`west`) or with one as a dash-separated part (`etcd-west`) needs no entry.
         */
        memberSites: z
          .preprocess(
            (sites, ctx) => {
              // zod's record skips a "__proto__" key without a word: refuse it like any bad name.
              if (typeof sites === 'object' && sites !== null && Object.hasOwn(sites, '__proto__'))
                ctx.addIssue({
                  code: 'custom',
                  message: 'expected member names, not "__proto__"',
                  input: sites,
                });
              return sites;
            },
            z
              .record(name, name)
              .refine((sites) => Object.keys(sites).length <= 32, 'expected at most 32 entries'),
          )
          .optional(),
      })
      .strict(),
    /** The coordinator's MySQL user (see README for its grants). */
    mysql: credentials,
    /** Replication user written into CHANGE MASTER when repointing; omitted: keep the current one. */
    replication: credentials.optional(),
    /** docs/scale.md measured up to 200 clusters per coordinator. */
    clusters: list(clusterSchema, 1_000).min(1),
    timings: timingsSchema.default(() => timingsSchema.parse({})),
    /**
     * The read-only HTTP listener (health checks for HAProxy, /metrics, the cluster as JSON);
     * off unless set. `host:port`, e.g. `0.0.0.0:8008`.
     */
    http: z
      .object({
        listen: z
          .string()
          .max(300, 'expected host:port, e.g. 127.0.0.1:8008 (max 300 characters)')
          .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:8008')
          .refine(noControlCharacters, NO_CONTROL_CHARACTERS),
      })
      .strict()
      .optional(),
    /**
     * Read only by `baton doctor`: the application's MySQL accounts, which it logs in as to check
     * that none can write through read_only (only an administrator can read another account's
     * grants). The coordinator never uses them.
     */
    doctor: z
      .object({ appUsers: list(credentials, 32).default([]) })
      .strict()
      .optional(),
    log: z
      .object({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info') })
      .strict()
      .default({ level: 'info' }),
  })
  .strict();

export type BatonConfigFile = z.infer<typeof configSchema>;
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type Timings = z.infer<typeof timingsSchema>;
export type Credentials = z.infer<typeof credentials>;
export type HookConfig = z.infer<typeof hookSchema>;
export type TlsFiles = z.infer<typeof tlsFiles>;
export type HookName = keyof ClusterConfig['hooks'];
