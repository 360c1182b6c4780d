import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { withSecondFactor } from '../../domain/mfa/factor-policy.ts';
import type { ValidatedSession } from '../../domain/sessions/session-service.ts';
import { AppError } from '../../errors/app-error.ts';
import { apiRoute } from '../api-route.ts';
import type { AppEnv } from '../app-env.ts';
import { pendingSession, requireSession, startSession } from '../auth.ts';
import { countingFailures } from '../auth-failures.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';
import { sessionJson, userJson } from '../serializers.ts';
import { requireRecentAuth } from '../step-up.ts';
import { signedInSchema } from './session.ts';

const totpCode = z.string().max(20).describe('The 6-digit code the authenticator app shows');
const recoveryCodes = z.array(z.string()).describe('Shown once: store them somewhere safe');

const secondFactor = z.union([
  z.object({ code: totpCode }).strict(),
  z.object({ recoveryCode: z.string().max(64).describe('One of your recovery codes') }).strict(),
]);

/**
 * A half-authenticated session may set up an authenticator only when the instance requires MFA
 * and the user has none yet (otherwise it could never complete). Anyone else enrolling is
 * signed in fully, and for starting an enrolment, recently (step-up).
 */
async function enrolmentSession(
  c: Context<AppEnv>,
  fallback: (c: Context<AppEnv>) => Promise<ValidatedSession>,
): Promise<{ auth: ValidatedSession; completesSignIn: boolean }> {
  const pending = await pendingSession(c);
  if (pending) {
    const standing = await c.get('services').factorPolicy.standing(pending.user.id);
    if (standing.instanceRequiresMfa && !standing.secondFactorEnrolled) {
      return { auth: pending, completesSignIn: true };
    }
  }
  return { auth: await fallback(c), completesSignIn: false };
}

/** Second factors (DESIGN §5): TOTP enrolment, completing a sign-in, recovery codes. */
export function mountMfaRoutes(app: Hono<AppEnv>, registry: OpenApiRegistry): void {
  apiRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/api/v1/mfa',
      summary: 'Your second factors: whether an authenticator app is on, how many recovery codes are left',
      tag: 'MFA',
      auth: true,
      responses: {
        200: {
          description: 'Status',
          schema: z.object({ totp: z.boolean(), recoveryCodesLeft: z.number() }),
        },
      },
    },
    async (c) => {
      const { user } = await requireSession(c);
      return c.json(await c.get('services').mfa.status(user.id));
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/mfa/totp/setup',
      summary:
        'Start setting up an authenticator app (step-up): a new secret, its otpauth:// URL and QR code',
      tag: 'MFA',
      auth: true,
      responses: {
        200: {
          description: 'The secret (shown now only), to confirm with a code',
          schema: z.object({
            secret: z.string().describe('base32, for typing into the app by hand'),
            uri: z.string().describe('otpauth://totp/… (Key Uri Format)'),
            qrSvg: z.string().describe('The URI as a QR code, SVG markup'),
          }),
        },
      },
    },
    async (c) => {
      const { auth } = await enrolmentSession(c, requireRecentAuth);
      const enrolment = await c.get('services').mfa.startTotpEnrolment(auth.user, c.get('requestContext'));
      c.header('Cache-Control', 'no-store');
      return c.json(enrolment);
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/mfa/totp/confirm',
      summary: 'Confirm the authenticator app with its first code; returns the first recovery codes',
      tag: 'MFA',
      auth: true,
      body: z.object({ code: totpCode }).strict(),
      responses: {
        200: {
          description:
            'Enabled. The session continues as a two-factor one under a new token (user and session returned), unless its sign-in is older than the step-up window',
          schema: z.object({ recoveryCodes }).extend(signedInSchema.partial().shape),
        },
      },
    },
    async (c, { body }) => {
      const { auth, completesSignIn } = await enrolmentSession(c, requireSession);
      const { mfa } = c.get('services');
      const codes = await countingFailures(c, auth.session, () =>
        mfa.confirmTotp(auth.user, body.code, c.get('requestContext')),
      );
      c.header('Cache-Control', 'no-store');
      // This session has now shown both factors: the sign-in (recent, since starting the
      // enrolment needed step-up) and a code from the app. It continues as a two-factor
      // session under a new token, so the user is not asked to re-authenticate at once.
      // Too late for that, it keeps what it had.
      const { clock, config } = c.get('services');
      const recent = clock.now() - auth.session.authTime <= config.mfa.stepUpMaxAgeMs;
      if (!completesSignIn && !recent) return c.json({ recoveryCodes: codes });
      const issued = await startSession(c, auth.user.id, withSecondFactor(auth.session.amr));
      return c.json({
        recoveryCodes: codes,
        user: userJson(auth.user),
        session: sessionJson(issued.session),
      });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'delete',
      path: '/api/v1/mfa/totp',
      summary: 'Remove the authenticator app and its recovery codes (step-up)',
      tag: 'MFA',
      auth: true,
      responses: { 204: { description: 'Removed' } },
    },
    async (c) => {
      const { user } = await requireRecentAuth(c);
      await c.get('services').mfa.removeTotp(user, c.get('requestContext'));
      return c.body(null, 204);
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/mfa/verify',
      summary: 'Complete a half-authenticated sign-in with an authenticator code or a recovery code',
      tag: 'MFA',
      auth: true,
      body: secondFactor,
      responses: {
        200: {
          description: 'Signed in with both factors; a new session cookie is set',
          schema: signedInSchema,
        },
      },
    },
    async (c, { body }) => {
      const auth = await pendingSession(c);
      if (!auth) throw new AppError('unauthenticated', 'Sign in first; then enter the code.');
      const { mfa } = c.get('services');
      await countingFailures(c, auth.session, () =>
        mfa.verifySecondFactor(auth.user, body, c.get('requestContext')),
      );
      // A new token for the completed sign-in (DESIGN §4): the half-authenticated one ends.
      const issued = await startSession(c, auth.user.id, withSecondFactor(auth.session.amr));
      c.header('Cache-Control', 'no-store');
      return c.json({ user: userJson(auth.user), session: sessionJson(issued.session) });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/mfa/recovery-codes',
      summary: 'A new set of 10 recovery codes (step-up); the old ones stop working',
      tag: 'MFA',
      auth: true,
      responses: { 200: { description: 'Shown once', schema: z.object({ recoveryCodes }) } },
    },
    async (c) => {
      const { user } = await requireRecentAuth(c);
      const codes = await c.get('services').mfa.regenerateRecoveryCodes(user, c.get('requestContext'));
      c.header('Cache-Control', 'no-store');
      return c.json({ recoveryCodes: codes });
    },
  );
}
