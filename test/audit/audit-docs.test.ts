import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderAuditDocs } from '../../src/domain/audit/audit-docs.ts';
import { auditEventTypes } from '../../src/domain/audit/audit-recorder.ts';

test('docs/audit-events.md is generated from the event catalogue and not stale', () => {
  const committed = readFileSync(new URL('../../docs/audit-events.md', import.meta.url), 'utf8');
  assert.equal(committed, renderAuditDocs(), 'run `npm run docs:audit`');
  for (const type of Object.keys(auditEventTypes)) assert.ok(committed.includes(`| \`${type}\` |`), type);
});
