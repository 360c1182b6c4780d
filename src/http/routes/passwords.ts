import type { Hono } from 'hono';
import { z } from 'zod';
import { PASSWORD_AMR } from '../../domain/passwords/password-service.ts';
import { normalizeEmail } from '../../domain/users/email-address.ts';
import { AppError } from '../../errors/app-error.ts';
import { afterResponse } from '../after-response.ts';
import { apiRoute } from '../api-route.ts';
import type { AppEnv } from '../app-env.ts';
import { currentSession, startSession } from '../auth.ts';
import { countingFailures } from '../auth-failures.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';
import { checkedRedirectTarget } from '../redirect-target.ts';
import { mfaRequiredSchema, signInResponse } from '../sign-in-response.ts';
import { requireRecentAuth } from '../step-up.ts';
import { signedInSchema } from './session.ts';

/**
 * Passwords travel exactly as typed: no trimming or case folding here or in the domain. The
 * limit only caps the request; the policy (passwords.maxLength) decides what is allowed.
 */
const password = z.string().max(4096);
const email = z.string().max(320);
const redirectTo = z
  .string()
  .max(2048)
  .optional()
  .describe('Where to go after sign-in: a path on this origin or an allowed URL.');

/** The same answer for every address: whether an account exists must not show. */
const ACCEPTED = {
  status: 'sent',
  message: 'If the address can receive mail, a message with the next step is on its way.',
} as const;
const acceptedResponse = {
  202: {
    description: 'Always the same answer, known address or not',
    schema: z.object({ status: z.literal('sent'), message: z.string() }),
  },
};

const signedInOrMfa = z.union([
  signedInSchema.extend({ redirectTo: z.string().nullable() }),
  mfaRequiredSchema,
]);

/**
 * Password sign-up, sign-in, reset and change (DESIGN §5). Passwords are off by default: the
 * routes are then still mounted (so every middleware keyed to their patterns, such as the rate
 * limiter, sees the same routes either way) but answer 404 before anything is read, and the
 * caller leaves them out of the OpenAPI document.
 */
export function mountPasswordRoutes(app: Hono<AppEnv>, registry: OpenApiRegistry): void {
  app.use('/api/v1/password/*', async (c, next) => {
    if (!c.get('services').config.passwords.enabled) throw new AppError('not_found', 'Not found.');
    await next();
  });
  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/password/sign-up',
      summary:
        'Sign up with an email address and password; the account exists once the mailed link is followed',
      tag: 'Passwords',
      auth: false,
      body: z.object({ email, password }).strict(),
      responses: acceptedResponse,
    },
    async (c, { body }) => {
      await c.get('services').passwords.requestSignUp(body, c.get('requestContext'));
      return c.json(ACCEPTED, 202);
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/password/sign-up/confirm',
      summary: 'Follow the sign-up link: creates the account with its password and signs in',
      tag: 'Passwords',
      auth: false,
      body: z.object({ token: z.string().max(200) }).strict(),
      responses: { 200: { description: 'Signed in', schema: signedInOrMfa } },
    },
    async (c, { body }) => {
      const { user, amr } = await c
        .get('services')
        .passwords.confirmSignUp(body.token, c.get('requestContext'));
      const issued = await startSession(c, user.id, amr);
      return signInResponse(c, user, issued, { redirectTo: null });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/password/sign-in',
      summary:
        'Sign in with email and password; mfa_required (with a half-authenticated session) when a second factor is due',
      tag: 'Passwords',
      auth: false,
      body: z.object({ email, password, redirectTo }).strict(),
      responses: { 200: { description: 'Signed in, or mfa_required', schema: signedInOrMfa } },
    },
    async (c, { body }) => {
      const target = await checkedRedirectTarget(c, body.redirectTo, 'sign_in.password');
      const user = await c.get('services').passwords.signIn(body, c.get('requestContext'));
      const issued = await startSession(c, user.id, PASSWORD_AMR);
      return signInResponse(c, user, issued, { redirectTo: target });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/password/forgot',
      summary: 'Mail a password reset link',
      tag: 'Passwords',
      auth: false,
      body: z.object({ email }).strict(),
      responses: acceptedResponse,
    },
    async (c, { body }) => {
      normalizeEmail(body.email); // a malformed address is still a 400, answered now
      // Whether the address has an account decides the work that follows (a reset token or
      // not): done after the answer, it cannot show in the response time (no enumeration).
      const { passwords } = c.get('services');
      const context = c.get('requestContext');
      afterResponse(c, 'password reset request', () => passwords.requestReset(body, context));
      return c.json(ACCEPTED, 202);
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/password/reset',
      summary: 'Set a new password with the mailed reset token; other sessions end. Does not sign in',
      tag: 'Passwords',
      auth: false,
      body: z.object({ token: z.string().max(200), password }).strict(),
      responses: {
        200: { description: 'Password changed', schema: z.object({ status: z.literal('password_reset') }) },
      },
    },
    async (c, { body }) => {
      // The browser that resets may itself be signed in to this account: it stays signed in.
      const current = await currentSession(c);
      await c
        .get('services')
        .passwords.reset(
          { token: body.token, password: body.password, keepSessionId: current?.session.id ?? null },
          c.get('requestContext'),
        );
      return c.json({ status: 'password_reset' as const });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/password/change',
      summary: 'Change your password (step-up); your other sessions end',
      tag: 'Passwords',
      auth: true,
      body: z.object({ currentPassword: password, newPassword: password }).strict(),
      responses: {
        200: { description: 'Changed', schema: z.object({ status: z.literal('password_changed') }) },
      },
    },
    async (c, { body }) => {
      const { user, session } = await requireRecentAuth(c);
      await countingFailures(c, session, () =>
        c.get('services').passwords.change(user, { ...body, sessionId: session.id }, c.get('requestContext')),
      );
      return c.json({ status: 'password_changed' as const });
    },
  );
}
