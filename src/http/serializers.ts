import type { SessionRecord } from '../ports/session-store.ts';
import type { UserRecord } from '../ports/user-store.ts';

/** The public shape of a user in every JSON response. */
export function userJson(user: UserRecord): Record<string, unknown> {
  return {
    id: user.id,
    email: user.email,
    emailVerified: user.emailVerifiedAt !== null,
    displayName: user.displayName,
    createdAt: user.createdAt,
  };
}

/** The public shape of the caller's session. Never the token or its hash. */
export function sessionJson(session: SessionRecord): Record<string, unknown> {
  return {
    id: session.id,
    createdAt: session.createdAt,
    lastSeenAt: session.lastSeenAt,
    expiresAt: session.expiresAt,
    authTime: session.authTime,
    amr: session.amr,
  };
}

/**
 * On every `200` of `GET /api/v1/session`: the signed-in user's id, for a reverse proxy that
 * asks Gatehouse before passing a request on (nginx `auth_request_set`, Traefik
 * `authResponseHeaders`, Caddy `copy_headers`) and hands the id to the app behind it. The proxy
 * must set it itself, overwriting anything a client sent (docs/integration.md).
 */
export const USER_ID_HEADER = 'gatehouse-user-id';
