/**
 * Both masters take writes at some point, and a transaction written on the old writer may still
 * be in flight when the new one opens: their auto-increment sequences must never meet. They
 * do not when the increments are equal (at least 2) and the offsets differ.
 */
import { settingFix } from '../finding.js';
import { clusterCheck, readNodes, type Issue, type ReadNode } from './check.js';

/** The server ignores an offset above the increment (it uses 1). */
function effectiveOffset(n: ReadNode): number | undefined {
  const { autoIncrementIncrement: inc, autoIncrementOffset: off } = n.server.settings;
  if (inc === undefined || off === undefined) return undefined;
  return off > inc ? 1 : off;
}

export const autoIncrement = clusterCheck(
  'masters.auto-increment',
  'the masters have auto_increment_increment ≥ 2, equal, and distinct offsets',
  (cluster) => {
    const masters = readNodes(cluster, 'candidate');
    const issues: Issue[] = [];
    for (const m of masters) {
      const inc = m.server.settings.autoIncrementIncrement;
      if (inc !== undefined && inc < 2) {
        issues.push({
          severity: 'error',
          node: m.spec.name,
          message: `auto_increment_increment is ${inc}: both masters hand out the same ids`,
          fix: settingFix(
            m.server.flavor,
            'SET GLOBAL auto_increment_increment = 2',
            'auto_increment_increment = 2',
          ),
        });
      }
    }
    const [first, second] = masters;
    if (!first || !second || issues.length > 0) return issues;
    const incA = first.server.settings.autoIncrementIncrement;
    const incB = second.server.settings.autoIncrementIncrement;
    if (incA !== undefined && incB !== undefined && incA !== incB) {
      issues.push({
        severity: 'error',
        node: second.spec.name,
        message: `auto_increment_increment is ${incB} here and ${incA} on ${first.spec.name}: the two sequences meet`,
        fix: settingFix(
          second.server.flavor,
          `SET GLOBAL auto_increment_increment = ${incA}`,
          `auto_increment_increment = ${incA}`,
        ),
      });
      return issues;
    }
    const offA = effectiveOffset(first);
    const offB = effectiveOffset(second);
    if (offA !== undefined && offB !== undefined && incA !== undefined && offA === offB) {
      const free = Array.from({ length: incA }, (_, i) => i + 1).find((o) => o !== offA) ?? 2;
      issues.push({
        severity: 'error',
        node: second.spec.name,
        message:
          `auto_increment_offset is ${offB} here and on ${first.spec.name}` +
          `${second.server.settings.autoIncrementOffset !== offB ? ` (${second.server.settings.autoIncrementOffset} exceeds the increment, so the server uses 1)` : ''}: ` +
          'both masters hand out the same ids',
        fix: settingFix(
          second.server.flavor,
          `SET GLOBAL auto_increment_offset = ${free}`,
          `auto_increment_offset = ${free}`,
        ),
      });
    }
    return issues;
  },
);
