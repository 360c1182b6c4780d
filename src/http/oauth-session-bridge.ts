import { parse, serialize } from 'hono/utils/cookie';
import type { SessionBridge, SignedInSession } from '../domain/oauth-provider/oauth-provider.ts';
import type { AuditRecorder } from '../domain/audit/audit-recorder.ts';
import type { SessionService } from '../domain/sessions/session-service.ts';
import { SESSION_COOKIE } from './cookies.ts';

/**
 * The provider's view of Gatehouse sessions. It runs outside Hono (the provider serves its own
 * paths), so it reads the session cookie from the raw header. A half-authenticated session
 * (second factor pending) is no session here either.
 */
export function sessionBridge(sessions: SessionService, audit: AuditRecorder): SessionBridge {
  async function fromCookies(cookieHeader: string | undefined): Promise<SignedInSession | null> {
    const token = cookieHeader ? parse(cookieHeader, SESSION_COOKIE)[SESSION_COOKIE] : undefined;
    if (!token) return null;
    const found = await sessions.validate(token);
    if (!found || found.session.mfaPending) return null;
    return {
      sessionId: found.session.id,
      userId: found.user.id,
      authTime: found.session.authTime,
      amr: found.session.amr,
    };
  }

  return {
    fromCookies,
    async signIns(userId) {
      const records = await sessions.list(userId);
      return records
        .filter((record) => !record.mfaPending)
        .map((record) => ({
          authTime: record.authTime,
          expiresAt: Math.min(record.expiresAt, record.absoluteExpiresAt),
        }));
    },
    async signOut(cookieHeader, accountId, context, clientId) {
      const session = await fromCookies(cookieHeader);
      if (!session || session.userId !== accountId) return [];
      await sessions.end(session.sessionId);
      await audit.record(context, {
        type: 'sign_out',
        outcome: 'success',
        userId: session.userId,
        sessionId: session.sessionId,
        details: { via: 'oidc_logout', clientId },
      });
      // The same attributes the cookie was set with (cookies.ts), expired.
      return [
        serialize(SESSION_COOKIE, '', {
          path: '/',
          secure: true,
          httpOnly: true,
          sameSite: 'Lax',
          maxAge: 0,
        }),
      ];
    },
  };
}
