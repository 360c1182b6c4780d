import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { EMAIL_AMR } from '../../domain/email-auth/email-auth-service.ts';
import { withSecondFactor } from '../../domain/mfa/factor-policy.ts';
import { PASSWORD_AMR } from '../../domain/passwords/password-service.ts';
import type { ValidatedSession } from '../../domain/sessions/session-service.ts';
import { AppError } from '../../errors/app-error.ts';
import { apiRoute } from '../api-route.ts';
import type { AppEnv } from '../app-env.ts';
import { requireSession, startSession } from '../auth.ts';
import { countingFailures } from '../auth-failures.ts';
import { EMAIL_FLOW_COOKIE, readCookie, setHostCookie } from '../cookies.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';
import { sessionJson, userJson } from '../serializers.ts';
import { signedInSchema } from './session.ts';
import { authenticationResponse } from './passkeys.ts';

const totp = z
  .string()
  .max(20)
  .optional()
  .describe('Authenticator code: needed when you have one and the first factor alone is not two factors');

const reauthenticated = {
  200: {
    description: 'Re-authenticated: a new session token is set and authTime is now',
    schema: signedInSchema,
  },
};

/**
 * A second factor offered beside a single-factor re-authentication. Checked for presence
 * before the first factor is spent (an email code is single-use), and verified after it.
 */
async function needsTotp(c: Context<AppEnv>, auth: ValidatedSession, amr: string[]): Promise<boolean> {
  return c.get('services').factorPolicy.needsSecondFactor(auth.user.id, amr);
}

function totpMissing(): AppError {
  return new AppError('second_factor_required', 'Enter the code from your authenticator app as well.');
}

/** Issues the re-authenticated session: new token, fresh authTime, the proven amr (DESIGN §4). */
async function finish(
  c: Context<AppEnv>,
  auth: ValidatedSession,
  method: 'passkey' | 'email' | 'password',
  firstAmr: string[],
  code: string | undefined,
): Promise<Response> {
  const { mfa, audit } = c.get('services');
  const context = c.get('requestContext');
  let amr = firstAmr;
  if (await needsTotp(c, auth, firstAmr)) {
    if (code === undefined) throw totpMissing();
    await countingFailures(c, auth.session, () => mfa.verifySecondFactor(auth.user, { code }, context));
    amr = withSecondFactor(firstAmr);
  }
  await audit.record(context, {
    type: 'reauth',
    outcome: 'success',
    userId: auth.user.id,
    sessionId: auth.session.id,
    details: { method, amr },
  });
  const issued = await startSession(c, auth.user.id, amr);
  c.header('Cache-Control', 'no-store');
  return c.json({ user: userJson(auth.user), session: sessionJson(issued.session) });
}

/** Step-up (issue #3): prove it is still you, by passkey, email code or password. */
export function mountReauthRoutes(app: Hono<AppEnv>, registry: OpenApiRegistry): void {
  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/reauth/passkey/options',
      summary: 'Request options to re-authenticate with one of your passkeys',
      tag: 'Step-up',
      auth: true,
      responses: {
        200: {
          description: 'Request options; the challenge admits only your passkeys',
          schema: z.object({ challenge: z.string() }).loose(),
        },
      },
    },
    async (c) => {
      const { user } = await requireSession(c);
      const options = await c.get('services').passkeys.reauthenticationOptions(user);
      c.header('Cache-Control', 'no-store');
      return c.json(options);
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/reauth/passkey/verify',
      summary: 'Re-authenticate with a passkey assertion',
      tag: 'Step-up',
      auth: true,
      body: z.object({ response: authenticationResponse, totp }).strict(),
      responses: reauthenticated,
    },
    async (c, { body }) => {
      const auth = await requireSession(c);
      const { passkeys } = c.get('services');
      const result = await countingFailures(c, auth.session, () =>
        passkeys.verifyAuthentication(
          body.response as unknown as AuthenticationResponseJSON,
          c.get('requestContext'),
        ),
      );
      // The challenge was bound to this user, so only their passkeys verify; checked again here
      // because a session must never be re-issued for another account.
      if (result.user.id !== auth.user.id) throw new AppError('forbidden', 'That passkey is not yours.');
      return finish(c, auth, 'passkey', result.amr, body.totp);
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/reauth/email',
      summary: 'Mail a one-time code to your address, to re-authenticate with',
      tag: 'Step-up',
      auth: true,
      responses: { 202: { description: 'Sent', schema: z.object({ status: z.literal('sent') }) } },
    },
    async (c) => {
      const { user } = await requireSession(c);
      const { flowSecret, expiresAt } = await c
        .get('services')
        .emailAuth.request({ email: user.email }, c.get('requestContext'));
      // The code works only in this browser, as for sign-in.
      setHostCookie(c, EMAIL_FLOW_COOKIE, flowSecret, expiresAt);
      return c.json({ status: 'sent' as const }, 202);
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/reauth/email/verify',
      summary: 'Re-authenticate with the mailed code (plus your authenticator code when you have one)',
      tag: 'Step-up',
      auth: true,
      body: z.object({ code: z.string().max(20), totp }).strict(),
      responses: reauthenticated,
    },
    async (c, { body }) => {
      const auth = await requireSession(c);
      if (body.totp === undefined && (await needsTotp(c, auth, EMAIL_AMR))) throw totpMissing();
      const { emailAuth } = c.get('services');
      const result = await countingFailures(c, auth.session, () =>
        emailAuth.verifyCode(
          { email: auth.user.email, code: body.code, flowSecret: readCookie(c, EMAIL_FLOW_COOKIE) },
          c.get('requestContext'),
        ),
      );
      if (result.user.id !== auth.user.id)
        throw new AppError('forbidden', 'That code is for another account.');
      return finish(c, auth, 'email', result.amr, body.totp);
    },
  );
}

/** Re-authentication by password; 404 while passwords are off (see mountPasswordRoutes). */
export function mountPasswordReauthRoute(app: Hono<AppEnv>, registry: OpenApiRegistry): void {
  app.use('/api/v1/reauth/password', async (c, next) => {
    if (!c.get('services').config.passwords.enabled) throw new AppError('not_found', 'Not found.');
    await next();
  });
  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/reauth/password',
      summary: 'Re-authenticate with your password (plus your authenticator code when you have one)',
      tag: 'Step-up',
      auth: true,
      body: z.object({ password: z.string().max(4096), totp }).strict(),
      responses: reauthenticated,
    },
    async (c, { body }) => {
      const auth = await requireSession(c);
      if (body.totp === undefined && (await needsTotp(c, auth, PASSWORD_AMR))) throw totpMissing();
      const { passwords, audit } = c.get('services');
      await countingFailures(c, auth.session, async () => {
        if (!(await passwords.verifyForReauth(auth.user, body.password))) {
          await audit.record(c.get('requestContext'), {
            type: 'reauth',
            outcome: 'failure',
            userId: auth.user.id,
            sessionId: auth.session.id,
            details: { method: 'password', reason: 'wrong_password' },
          });
          throw new AppError('invalid_credentials', 'That password is not right.');
        }
      });
      return finish(c, auth, 'password', PASSWORD_AMR, body.totp);
    },
  );
}
