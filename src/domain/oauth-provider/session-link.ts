import type { RequestContext } from '../request-context.ts';
import { acrFor } from './claims.ts';

/**
 * How the provider's sessions hang off Gatehouse's: a provider session is the Gatehouse
 * session it was logged in with (same user, same auth time). Every authorization request
 * compares the two (provider-config.ts, login check `gatehouse_session`), so signing out of
 * Gatehouse, or a revoked session, ends the provider session for it: the next request must log
 * in again, and prompt=none gets login_required.
 */

/** The Gatehouse session behind a browser request, as the provider needs it. */
export interface SignedInSession {
  sessionId: string;
  userId: string;
  /** Epoch ms of the sign-in. */
  authTime: number;
  amr: string[];
}

/** The Gatehouse sessions, seen from the provider (implemented by the HTTP layer, which owns cookies). */
export interface SessionBridge {
  /** The valid, fully signed-in session named by the request's cookies, or null. */
  fromCookies(cookieHeader: string | undefined): Promise<SignedInSession | null>;
  /**
   * RP-initiated logout ended the provider session of `accountId`: end the Gatehouse session of
   * the same user too (never someone else's); returns the Set-Cookie values to send.
   */
  signOut(
    cookieHeader: string | undefined,
    accountId: string,
    context: RequestContext,
    clientId: string | null,
  ): Promise<string[]>;
  /**
   * The user's fully signed-in Gatehouse sessions (auth time and expiry, epoch ms): what a
   * provider session may still hang off (back-channel logout, backchannel-logout.ts).
   */
  signIns(userId: string): Promise<Array<{ authTime: number; expiresAt: number }>>;
}

/** Provider session and Gatehouse session are the same sign-in. */
export function sameSignIn(
  session: SignedInSession | null,
  provider: { accountId: string | undefined; loginTs: number | undefined },
): boolean {
  return (
    session !== null &&
    session.userId === provider.accountId &&
    Math.floor(session.authTime / 1000) === provider.loginTs
  );
}

/** The login an interaction finishes with: the Gatehouse session's user, time and methods. */
export function loginFor(session: SignedInSession): {
  accountId: string;
  ts: number;
  amr: string[];
  acr: string;
  remember: boolean;
} {
  return {
    accountId: session.userId,
    ts: Math.floor(session.authTime / 1000),
    amr: session.amr,
    acr: acrFor(session.amr),
    remember: true,
  };
}
