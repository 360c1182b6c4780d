import type { AuditEvent } from '../../ports/audit-log.ts';

/** An audit event as administrators read it: the API's `AuditEvent` and one export line. */
export interface PublicAuditEvent extends AuditEvent {
  /** UTC, ISO 8601: the same instant as `at`, for people and log tools. */
  time: string;
}

export function publicAuditEvent(event: AuditEvent): PublicAuditEvent {
  return {
    seq: event.seq,
    id: event.id,
    time: new Date(event.at).toISOString(),
    at: event.at,
    type: event.type,
    outcome: event.outcome,
    userId: event.userId,
    actorId: event.actorId,
    sessionId: event.sessionId,
    ip: event.ip,
    userAgent: event.userAgent,
    requestId: event.requestId,
    details: event.details,
    prevHash: event.prevHash,
    hash: event.hash,
  };
}
