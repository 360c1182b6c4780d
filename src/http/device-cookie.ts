import type { Context } from 'hono';
import { randomToken } from '../domain/crypto/secrets.ts';
import { DEVICE_LIFETIME_MS } from '../domain/devices/known-devices.ts';
import type { AppEnv } from './app-env.ts';
import { readCookie, setHostCookie } from './cookies.ts';

/** This browser's device token: `__Host-` like the session cookie, HttpOnly, 256 random bits. */
export const DEVICE_COOKIE = '__Host-gatehouse_device';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function deviceToken(c: Context<AppEnv>): string | null {
  const value = readCookie(c, DEVICE_COOKIE);
  return value && TOKEN.test(value) ? value : null;
}

/**
 * Called at every sign-in: keeps this browser's device cookie (issuing one the first time,
 * renewing its lifetime otherwise) and tells the domain which device signed in.
 */
export async function rememberDevice(c: Context<AppEnv>, userId: string, sessionId: string): Promise<void> {
  const services = c.get('services');
  const token = deviceToken(c) ?? randomToken();
  setHostCookie(c, DEVICE_COOKIE, token, services.clock.now() + DEVICE_LIFETIME_MS);
  await services.devices.signedIn(userId, token, sessionId, c.get('requestContext'));
}
