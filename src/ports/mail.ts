export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** A transport: SMTP or the development mailbox. Throws on failure; the queue retries. */
export interface MailTransport {
  readonly name: string;
  send(message: MailMessage): Promise<void>;
  close?(): Promise<void>;
}

export interface OutboxItem {
  id: string;
  /** The message, encrypted under the instance secret: links in mail are secrets at rest. */
  sealed: string;
  attempts: number;
}

export interface MailOutbox {
  enqueue(item: { id: string; sealed: string; createdAt: number }): Promise<void>;
  /** Leases up to `limit` due messages to this worker until `leaseUntil`. */
  claimDue(now: number, leaseUntil: number, limit: number): Promise<OutboxItem[]>;
  /** Sent: the sealed body is erased. */
  markSent(id: string, at: number): Promise<void>;
  markFailed(id: string, error: string, retryAt: number | null, at: number): Promise<void>;
  stats(): Promise<{ pending: number; failed: number; sent: number }>;
}

export interface StoredMessage extends MailMessage {
  id: string;
  createdAt: number;
}

export interface DevMailboxStore {
  store(message: StoredMessage): Promise<void>;
  /** Newest (most recently stored) first. */
  list(filter: { to?: string; limit: number }): Promise<StoredMessage[]>;
}
