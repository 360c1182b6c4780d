/**
 * PostgreSQL advisory lock keys, in one place so two features never share a key by accident.
 * The two-integer form keeps ours in a namespace of their own ('GATE'), apart from any lock a
 * host application sharing the database takes.
 */
export const LOCK_NAMESPACE = 0x47415445;

export const advisoryLocks = {
  /** Serialises appends to (and pruning of) the audit hash chain across nodes. */
  auditChain: 1,
} as const;
