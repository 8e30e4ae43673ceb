/**
 * deploy/systemd/baton.service as systemd itself reads it: `systemd-analyze verify` (syntax,
 * unknown or misspelt keys, a missing executable) and `systemd-analyze security --offline`
 * (the sandbox, scored). Both read the file only; nothing here runs the unit, so whether baton and
 * its hooks run inside the sandbox is argued in the unit's comments, not tested. Skipped, saying
 * so, where systemd-analyze is missing (scripts/setup installs Debian's systemd package for it).
 */

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';

const UNIT = path.resolve(import.meta.dirname, '../../../deploy/systemd/baton.service');
/** systemd's own rating, 0 (locked down) to 10; 2.8 when this was written (8.5 before the sandbox). */
const MAX_EXPOSURE = 3.0;

function systemdAnalyze(...args: string[]) {
  return spawnSync('systemd-analyze', args, { encoding: 'utf8', timeout: 20_000 });
}

const probe = systemdAnalyze('--version');
const missing = probe.error ? `systemd-analyze cannot run (${probe.error.message})` : undefined;
if (missing) console.warn(`skipping the systemd unit checks: ${missing}; scripts/setup installs it`);

/** [section] → key → values, in file order (systemd keys may repeat). */
function unitSettings(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1] as string, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) throw new Error(`unexpected line in ${UNIT}: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

describe('deploy/systemd/baton.service', () => {
  const settings = unitSettings(readFileSync(UNIT, 'utf8'));
  const service = settings.get('Service') ?? new Map<string, string[]>();
  const unit = settings.get('Unit') ?? new Map<string, string[]>();

  test.skipIf(missing)('systemd-analyze verify accepts it without a warning', () => {
    const result = systemdAnalyze('verify', UNIT);
    // Unknown keys and unparsable values are warnings with exit 0: only empty output is clean.
    expect(result.stderr + result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  test.skipIf(missing)('its sandbox scores as systemd-analyze security rates it', () => {
    const text = systemdAnalyze('security', '--offline=yes', UNIT);
    expect(text.status).toBe(0);
    const overall = /Overall exposure level for baton\.service: ([\d.]+) (\S+)/.exec(text.stdout);
    expect(overall, text.stdout + text.stderr).not.toBeNull();
    console.log(`systemd-analyze security: exposure ${overall?.[1]} ${overall?.[2]} (max ${MAX_EXPOSURE})`);
    expect(Number(overall?.[1])).toBeLessThanOrEqual(MAX_EXPOSURE);

    const json = systemdAnalyze('security', '--offline=yes', '--json=short', UNIT);
    const checks = new Map(
      (JSON.parse(json.stdout) as { json_field: string; set: boolean }[]).map((c) => [c.json_field, c.set]),
    );
    const required = [
      'UserOrDynamicUser',
      'NoNewPrivileges',
      'ProtectSystem',
      'ProtectHome',
      'PrivateTmp',
      'PrivateDevices',
      'ProtectKernelTunables',
      'ProtectKernelModules',
      'ProtectControlGroups',
      'RestrictSUIDSGID',
      'LockPersonality',
      'RestrictRealtime',
      'SystemCallArchitectures',
      'RestrictAddressFamilies_OTHER',
      'RestrictAddressFamilies_AF_NETLINK',
      'RestrictAddressFamilies_AF_PACKET',
    ];
    const capabilities = [...checks.keys()].filter((k) => k.startsWith('CapabilityBoundingSet_'));
    expect(capabilities.length).toBeGreaterThan(10);
    expect([...required, ...capabilities].filter((k) => checks.get(k) !== true)).toEqual([]);
    // node 20 aborts on its first JIT compile under it (see the unit's comment).
    expect(checks.get('MemoryDenyWriteExecute')).toBe(false);
  });

  test('runs as its own user, restarts on failure within a start limit', () => {
    expect(service.get('User')).toEqual(['baton']);
    expect(service.get('Group')).toEqual(['baton']);
    expect(service.get('Restart')).toEqual(['on-failure']);
    expect(Number(service.get('RestartSec')?.[0])).toBeGreaterThan(0);
    // In [Unit]: in [Service], systemd ignores StartLimitIntervalSec (verify warns, exit 0).
    expect(Number(unit.get('StartLimitIntervalSec')?.[0])).toBeGreaterThan(0);
    expect(Number(unit.get('StartLimitBurst')?.[0])).toBeGreaterThan(1);
    expect(service.get('CapabilityBoundingSet')).toEqual(['']);
  });

  test('grants no write access: baton writes no file, its log goes to journald', () => {
    expect(service.get('ProtectSystem')).toEqual(['strict']);
    expect(service.get('ReadWritePaths')).toBeUndefined();
    expect(service.get('StandardOutput') ?? ['journal']).toEqual(['journal']);
  });
});
