import { writeFileSync } from 'node:fs';
import { renderAuditDocs } from '../src/domain/audit/audit-docs.ts';

writeFileSync(new URL('../docs/audit-events.md', import.meta.url), renderAuditDocs());
console.log('wrote docs/audit-events.md');
