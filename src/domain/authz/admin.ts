import type { UserRecord } from '../../ports/user-store.ts';
import { normalizeEmail } from '../users/email-address.ts';

/**
 * The minimal admin notion (issue #4): an account is an administrator when its address is
 * listed in `adminEmails` and verified. Verified, because anyone can type an address into
 * sign-up: an unproven account holding an admin's address must not inherit the role.
 */
export class AdminPolicy {
  readonly #emails: ReadonlySet<string>;

  constructor(adminEmails: readonly string[]) {
    // Normalised like stored addresses (domain lower-cased and IDNA-encoded), so the list may
    // be written in any case.
    this.#emails = new Set(adminEmails.map(normalizeEmail));
  }

  isAdmin(user: UserRecord): boolean {
    return user.emailVerifiedAt !== null && this.#emails.has(user.email);
  }
}
