import type { AuditEvent } from '../../ports/audit-log.ts';
import { deviceLabel } from '../sessions/device-label.ts';
import { auditEventTypes } from './audit-recorder.ts';

/**
 * What a user sees of their own security events: what happened, when, whether it worked, and
 * from where. Not the details, session or request ids, or chain hashes: those are for
 * administrators and would only leak internals (which check failed, which credential id).
 */
export interface ActivityItem {
  id: string;
  at: number;
  type: string;
  description: string;
  outcome: 'success' | 'failure';
  ip: string | null;
  userAgent: string | null;
  device: string;
}

export function toActivity(event: AuditEvent): ActivityItem {
  return {
    id: event.id,
    at: event.at,
    type: event.type,
    description: (auditEventTypes as Record<string, string>)[event.type] ?? event.type,
    outcome: event.outcome,
    ip: event.ip,
    userAgent: event.userAgent,
    device: deviceLabel(event.userAgent),
  };
}
