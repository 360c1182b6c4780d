export type AuditOutcome = 'success' | 'failure';

export interface AuditEvent {
  id: string;
  at: number;
  type: string;
  outcome: AuditOutcome;
  userId: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** Never a secret. */
  details: Record<string, unknown>;
}

export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
  list(filter: { userId?: string; type?: string; limit: number }): Promise<AuditEvent[]>;
}
