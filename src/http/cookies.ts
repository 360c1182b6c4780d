import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { parse } from 'hono/utils/cookie';
import type { AppEnv } from './app-env.ts';

/**
 * `__Host-` makes the browser refuse the cookie unless it is Secure, has Path=/ and no
 * Domain: a sibling subdomain cannot set or shadow it. HttpOnly keeps it from scripts;
 * SameSite=Lax keeps it off cross-site subrequests. Chromium accepts Secure cookies on
 * http://localhost, so development uses the same attributes.
 */
export const SESSION_COOKIE = '__Host-gatehouse_session';
/** Binds a one-time email code to the browser that asked for it. */
export const EMAIL_FLOW_COOKIE = '__Host-gatehouse_email_flow';

export function setHostCookie(c: Context<AppEnv>, name: string, value: string, expiresAt: number): void {
  setCookie(c, name, value, {
    httpOnly: true,
    secure: true,
    sameSite: 'Lax',
    path: '/',
    maxAge: Math.max(0, Math.floor((expiresAt - c.get('services').clock.now()) / 1000)),
  });
}

export function clearHostCookie(c: Context<AppEnv>, name: string): void {
  deleteCookie(c, name, { httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });
}

export function readCookie(c: Context<AppEnv>, name: string): string | undefined {
  return cookieFromHeader(c.req.header('cookie'), name);
}

/** One cookie's value from a raw Cookie header (also read outside Hono: session-check-fast-path.ts). */
export function cookieFromHeader(header: string | undefined, name: string): string | undefined {
  return header ? parse(header, name)[name] : undefined;
}
