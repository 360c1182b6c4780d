import type { Hono } from 'hono';
import { z } from 'zod';
import { apiRoute } from '../api-route.ts';
import type { AppEnv } from '../app-env.ts';
import { startSession } from '../auth.ts';
import { EMAIL_FLOW_COOKIE, readCookie, setHostCookie } from '../cookies.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';
import { mfaRequiredSchema, signInResponse } from '../sign-in-response.ts';
import { signedInSchema } from './session.ts';

const signInRequest = z
  .object({
    email: z.string().max(320),
    redirectTo: z
      .string()
      .max(2048)
      .optional()
      .describe('Where to go after sign-in: a path on this origin or an allowed URL.'),
  })
  .strict();

const verifyRequest = z.union([
  z.object({ token: z.string().max(200) }).strict(),
  z.object({ email: z.string().max(320), code: z.string().max(20) }).strict(),
]);

/** Identical for every address: the answer must not say whether an account exists. */
const ACCEPTED = {
  status: 'sent',
  message: 'If the address can receive mail, a sign-in link and code are on their way.',
} as const;

export function mountEmailAuthRoutes(app: Hono<AppEnv>, registry: OpenApiRegistry): void {
  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/email/sign-in',
      summary: 'Continue with email: mails a sign-in link and a one-time code',
      tag: 'Email sign-in',
      auth: false,
      body: signInRequest,
      responses: {
        202: {
          description: 'Always the same answer, known address or not',
          schema: z.object({ status: z.literal('sent'), message: z.string() }),
        },
      },
    },
    async (c, { body }) => {
      const { flowSecret, expiresAt } = await c
        .get('services')
        .emailAuth.request(body, c.get('requestContext'));
      // Binds the code to this browser: a code read off someone else's screen is useless elsewhere.
      setHostCookie(c, EMAIL_FLOW_COOKIE, flowSecret, expiresAt);
      return c.json(ACCEPTED, 202);
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/email/verify',
      summary: 'Redeem a sign-in link token, or an email + code in the browser that asked for it',
      tag: 'Email sign-in',
      auth: false,
      body: verifyRequest,
      responses: {
        200: {
          description:
            'Signed in (the account is created on first use), or mfa_required when the user has a second factor',
          schema: z.union([
            signedInSchema.extend({ created: z.boolean(), redirectTo: z.string().nullable() }),
            mfaRequiredSchema,
          ]),
        },
      },
    },
    async (c, { body }) => {
      const { emailAuth } = c.get('services');
      const context = c.get('requestContext');
      const result =
        'token' in body
          ? await emailAuth.verifyLink(body.token, context)
          : await emailAuth.verifyCode(
              { email: body.email, code: body.code, flowSecret: readCookie(c, EMAIL_FLOW_COOKIE) },
              context,
            );
      const issued = await startSession(c, result.user.id, result.amr);
      return signInResponse(c, result.user, issued, {
        created: result.created,
        redirectTo: result.redirectTo,
      });
    },
  );
}
