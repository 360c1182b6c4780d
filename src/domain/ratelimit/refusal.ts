/** A request refused by a limit: the caller may try again after this long. */
export interface Refusal {
  retryAfterMs: number;
}

/** Which limit refused: recorded in the audit log, never told to the client. */
export type LimitRule =
  | 'per_ip'
  | 'per_identifier'
  | 'per_client'
  | 'global'
  | 'mail_per_address'
  | 'consecutive_failures'
  | 'identifier_failures';
