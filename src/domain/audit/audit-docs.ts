import { auditEventTypes } from './audit-recorder.ts';

/** The fields every event has, in the order the chain hash covers them. */
const fields: Array<[string, string]> = [
  ['seq', 'Position in the log: a total order across all nodes (cursor of the audit API).'],
  ['id', 'Random event id.'],
  ['time / at', 'When, in UTC: ISO 8601 in the API and exports (`time`), epoch milliseconds (`at`).'],
  ['type', 'One of the types below.'],
  ['outcome', '`success` or `failure`.'],
  ['userId', 'The account concerned, when known.'],
  ['actorId', 'Who did it when not the user themselves (an administrator); otherwise null.'],
  ['sessionId', 'The session that made the request, when there was one.'],
  ['ip', 'Client IP (from `X-Forwarded-For` only behind `trustedProxies`).'],
  ['userAgent', 'The client’s User-Agent, first 512 characters.'],
  ['requestId', 'The request’s `X-Request-Id`, to find its lines in the server log.'],
  ['details', 'A JSON object: why, which factor, which credential id. Never a secret.'],
  ['prevHash', 'The previous event’s `hash` (64 zeros for the first event of the chain).'],
  ['hash', 'HMAC-SHA256 over every field above and `prevHash` (see below).'],
];

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|');

/** docs/audit-events.md, generated from the catalogue so the two cannot drift. */
export function renderAuditDocs(): string {
  const fieldRows = fields.map(([name, meaning]) => `| \`${name}\` | ${escapeCell(meaning)} |`).join('\n');
  const typeRows = Object.entries(auditEventTypes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, description]) => `| \`${type}\` | ${escapeCell(description)} |`)
    .join('\n');
  return `<!-- Generated from src/domain/audit/audit-recorder.ts by \`npm run docs:audit\`. Do not edit by hand. -->
# Audit events

Every security-relevant action is recorded as one event in the audit log, before the response
is sent. Administrators (\`adminEmails\`) read the log at \`GET /api/v1/audit\`; each user sees
their own events (time, type, outcome, device, IP) at \`GET /api/v1/me/activity\` and on
\`/account\`; operators export it with \`gatehouse audit export\`.

## Fields

| field | meaning |
| --- | --- |
${fieldRows}

No event ever holds a password, token, code, cookie or key: callers never pass one, and detail
keys that look like one (\`token\`, \`secret\`, \`password\`, \`cookie\`, \`authorization\`, \`…code\`)
are stored as \`[redacted]\`. Against log injection, every stored string has its control
characters and text-direction overrides written as \`\\uXXXX\` (and a backslash as \`\\\\\`), and
exports escape them again as JSON.

## Tamper evidence

Each event's \`hash\` is an HMAC-SHA256, under a key derived from the instance secret, of
every field above (\`seq\` aside: the order is carried by \`prevHash\`) and the previous event's
hash. Appends are serialised across nodes (a PostgreSQL advisory lock; SQLite has one writer),
and a unique index on \`prevHash\` refuses a fork. \`gatehouse audit verify\` walks the chain
and names the first event that was modified, deleted, inserted or written outside Gatehouse;
someone with write access to the database but without the secret cannot repair the chain
after such a change. Deleting the newest events leaves a shorter valid chain: keep the head
hash that \`audit verify\` prints somewhere else to detect that too.

Retention (\`audit.retentionMs\`, 90 days) deletes the oldest events once per pruning run on
one node; the hash of the last deleted event is kept as a sealed anchor, so the rest of the
chain stays verifiable. Each run is itself recorded (\`audit.pruned\`), with whether the
deleted part verified.

## Types

| type | meaning |
| --- | --- |
${typeRows}
`;
}
