/**
 * Accounts. read_only stops only accounts that lack the privileges to write through it, so the
 * application's account must lack them, or a fenced writer still takes its writes. baton's own
 * account needs a fixed set (README) and, as far as SHOW GRANTS tells, nothing more.
 */
import { configFix, sqlFix } from '../finding.js';
import { readOnlyBypasses, reviewBatonGrants, type Grant } from '../grants.js';
import { clusterCheck, readNodes, sqlAccount, type Issue } from './check.js';

/** `baton.*` → `` `baton`.* ``; `*.*` as is. */
function sqlObject(on: string): string {
  if (on === '*.*' || on === 'other') return on;
  const [db, table] = on.split('.') as [string, string];
  const q = (s: string) => (s === '*' ? s : `\`${s.replace(/`/g, '``')}\``);
  return `${q(db)}.${q(table)}`;
}

/** Grants grouped by object and grantee (the account itself, or a role it holds). */
function grouped(
  grants: readonly Grant[],
): Map<string, { on: string; grantee?: string; privileges: string[] }> {
  const groups = new Map<string, { on: string; grantee?: string; privileges: string[] }>();
  for (const g of grants) {
    const key = `${g.on}\u0000${g.grantee ?? ''}`;
    const group = groups.get(key) ?? {
      on: g.on,
      ...(g.grantee ? { grantee: g.grantee } : {}),
      privileges: [],
    };
    if (!group.privileges.includes(g.privilege)) group.privileges.push(g.privilege);
    groups.set(key, group);
  }
  return groups;
}

/** `READ_ONLY ADMIN on *.* (through role `r`), ALL PRIVILEGES on *.*` */
function describeGrants(grants: readonly Grant[]): string {
  return [...grouped(grants).values()]
    .map((g) => `${g.privileges.join(', ')} on ${g.on}${g.grantee ? ` (through role ${g.grantee})` : ''}`)
    .join(', ');
}

/** One REVOKE per object and grantee: from the role a privilege came through, else the account. */
/** Roles granted to an account whose own grants doctor could not read (app and baton alike). */
function unreadRolesIssue(node: string, account: string, unreadRoles: readonly string[]): Issue {
  return {
    severity: 'warning',
    node,
    message: `${account} holds role(s) ${unreadRoles.join(', ')} whose privileges doctor could not read`,
    fix: `check as an administrator: ${sqlFix(...unreadRoles.map((r) => `SHOW GRANTS FOR \`${r}\``))}`,
  };
}

function revokes(grants: readonly Grant[], account: string): string[] {
  return [...grouped(grants).values()]
    .filter((g) => g.on !== 'other')
    .map(
      (g) =>
        `REVOKE ${g.privileges.join(', ')} ON ${sqlObject(g.on)} FROM ${g.grantee ?? sqlAccount(account)}`,
    );
}

export const appCannotBypassReadOnly = clusterCheck(
  'users.app-read-only-bypass',
  'the application accounts hold no privilege that writes through read_only',
  (cluster) => {
    if (cluster.appUsers.length === 0) {
      return [
        {
          severity: 'info',
          message:
            "no application account to check: doctor logs in as it to read its grants (only an administrator can read another account's)",
          fix: configFix('doctor.appUsers', '[{ user: app, passwordFile: /etc/baton/app.password }]'),
        },
      ];
    }
    return readNodes(cluster).flatMap(({ spec, server }) =>
      server.apps.flatMap((app): Issue[] => {
        if (app.error !== undefined || !app.grants) {
          return [
            {
              severity: 'warning',
              node: spec.name,
              message: `could not read the grants of ${app.user}: ${app.error ?? 'no answer'}`,
              fix: `let ${app.user} log in from this host, or run baton doctor from an application host`,
            },
          ];
        }
        const { account, grants, roleGrants, unreadRoles } = app.grants;
        // A role it may enable counts: an application can SET ROLE itself.
        const all = [...grants.grants, ...roleGrants.grants];
        const bypasses = readOnlyBypasses(all, server.flavor, server.version);
        const issues: Issue[] = [];
        if (bypasses.length > 0) {
          issues.push({
            severity: 'error',
            node: spec.name,
            message:
              `${account} holds ${describeGrants(bypasses)}: it writes while read_only is ON, ` +
              'so a writer baton has fenced still takes its writes',
            fix: sqlFix(...revokes(bypasses, account)),
          });
        }
        if (unreadRoles.length > 0) issues.push(unreadRolesIssue(spec.name, account, unreadRoles));
        return issues;
      }),
    );
  },
);

export const batonGrants = clusterCheck(
  'users.baton-grants',
  "baton's account holds every grant it needs and, as SHOW GRANTS tells, no more",
  (cluster) =>
    readNodes(cluster).flatMap(({ spec, server }): Issue[] => {
      if (!server.baton) {
        return [
          {
            severity: 'warning',
            node: spec.name,
            message: `could not read baton's grants: ${server.batonGrantsError ?? 'no answer'}`,
            fix: "check as an administrator: SHOW GRANTS FOR the config's mysql.user",
          },
        ];
      }
      const { account, grants, unreadRoles } = server.baton;
      // Only what a session has at login counts: baton never enables a role.
      const review = reviewBatonGrants(grants, server.flavor);
      const who = sqlAccount(account);
      const issues: Issue[] = [];
      if (review.missing.length > 0) {
        issues.push({
          severity: 'error',
          node: spec.name,
          message: `${account} lacks ${review.missing.join(', ')} (baton needs them to fence, open, kill connections and repoint)`,
          fix: sqlFix(`GRANT ${review.missing.join(', ')} ON *.* TO ${who}`),
        });
      }
      if (review.missingOnSchema.length > 0) {
        issues.push({
          severity: 'error',
          node: spec.name,
          message: `${account} lacks ${review.missingOnSchema.join(', ')} on baton.* (its heartbeat table, which it creates when missing, and the watchdog event, which runs as it)`,
          fix: sqlFix(`GRANT ${review.missingOnSchema.join(', ')} ON \`baton\`.* TO ${who}`),
        });
      }
      if (review.extra.length > 0) {
        issues.push({
          severity: 'warning',
          node: spec.name,
          message: `${account} holds more than baton needs: ${describeGrants(review.extra)}`,
          fix: sqlFix(...revokes(review.extra, account)),
        });
      }
      if (grants.withGrantOption) {
        issues.push({
          severity: 'warning',
          node: spec.name,
          message: `${account} may grant its privileges to others (WITH GRANT OPTION)`,
          fix: sqlFix(`REVOKE GRANT OPTION ON *.* FROM ${who}`),
        });
      }
      if (unreadRoles.length > 0) issues.push(unreadRolesIssue(spec.name, account, unreadRoles));
      return issues;
    }),
);
