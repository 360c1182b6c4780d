import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { Hono } from 'hono';
import { z } from 'zod';
import { PASSKEY_NAME_MAX } from '../../domain/passkeys/passkey-service.ts';
import type { PasskeyRecord } from '../../ports/passkey-store.ts';
import { apiRoute } from '../api-route.ts';
import type { AppEnv } from '../app-env.ts';
import { requireSession, startSession } from '../auth.ts';
import type { OpenApiRegistry } from '../openapi/registry.ts';
import { checkedRedirectTarget } from '../redirect-target.ts';
import { requireRecentAuth } from '../step-up.ts';
import { mfaRequiredSchema, signInResponse } from '../sign-in-response.ts';
import { signedInSchema } from './session.ts';

/**
 * Passkeys (DESIGN §5). Options endpoints answer with the options JSON itself; verify endpoints
 * take `{response: <what @simplewebauthn/browser returns>, …}`. The zod schemas below only check
 * shape and size; every WebAuthn check happens in the domain (PasskeyService).
 */

const base64url = z
  .string()
  .max(16_384)
  .regex(/^[A-Za-z0-9_-]*={0,2}$/, 'base64url');

const registrationResponse = z
  .object({
    id: base64url.min(1),
    rawId: base64url.min(1),
    type: z.literal('public-key'),
    response: z
      .object({
        clientDataJSON: base64url,
        attestationObject: base64url,
        authenticatorData: base64url.optional(),
        transports: z.array(z.string().max(32)).max(16).optional(),
        publicKeyAlgorithm: z.number().int().optional(),
        publicKey: base64url.optional(),
      })
      .loose(),
    authenticatorAttachment: z.string().max(32).optional(),
    clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  })
  .loose()
  .describe('RegistrationResponseJSON, as returned by @simplewebauthn/browser startRegistration()');

export const authenticationResponse = z
  .object({
    id: base64url.min(1),
    rawId: base64url.min(1),
    type: z.literal('public-key'),
    response: z
      .object({
        clientDataJSON: base64url,
        authenticatorData: base64url,
        signature: base64url,
        userHandle: base64url.optional(),
      })
      .loose(),
    authenticatorAttachment: z.string().max(32).optional(),
    clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
  })
  .loose()
  .describe('AuthenticationResponseJSON, as returned by @simplewebauthn/browser startAuthentication()');

// Loose here on purpose: the domain owns the rule (code points, not UTF-16 units) and answers
// the same validation_failed shape.
const passkeyName = z
  .string()
  .max(PASSKEY_NAME_MAX * 4)
  .describe(`1 to ${PASSKEY_NAME_MAX} characters after trimming; no control characters`);

const passkeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    createdAt: z.number().describe('epoch ms'),
    lastUsedAt: z.number().nullable().describe('epoch ms'),
    deviceType: z.enum(['singleDevice', 'multiDevice']).describe('multiDevice: a synced passkey'),
    backedUp: z.boolean(),
    transports: z.array(z.string()),
    aaguid: z.string(),
  })
  .meta({ id: 'Passkey' });

/** Options JSON is the library's shape (W3C PublicKeyCredential*OptionsJSON); documented loosely. */
const creationOptionsSchema = z
  .object({ challenge: z.string(), rp: z.object({ id: z.string(), name: z.string() }).loose() })
  .loose()
  .describe('PublicKeyCredentialCreationOptionsJSON: pass to @simplewebauthn/browser startRegistration()');
const requestOptionsSchema = z
  .object({ challenge: z.string(), rpId: z.string().optional() })
  .loose()
  .describe('PublicKeyCredentialRequestOptionsJSON: pass to @simplewebauthn/browser startAuthentication()');

export function passkeyJson(passkey: PasskeyRecord): z.output<typeof passkeySchema> {
  return {
    id: passkey.id,
    name: passkey.name,
    createdAt: passkey.createdAt,
    lastUsedAt: passkey.lastUsedAt,
    deviceType: passkey.deviceType,
    backedUp: passkey.backedUp,
    transports: passkey.transports,
    aaguid: passkey.aaguid,
  };
}

export function mountPasskeyRoutes(app: Hono<AppEnv>, registry: OpenApiRegistry): void {
  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/passkeys/register/options',
      summary: 'Creation options for adding a passkey to the signed-in user (step-up)',
      tag: 'Passkeys',
      auth: true,
      responses: {
        200: { description: 'Creation options (single-use challenge)', schema: creationOptionsSchema },
      },
    },
    async (c) => {
      // Step-up guards the options: the challenge they carry is what lets verify add a passkey,
      // and guarding verify too would strand a credential already made on the device.
      const { user } = await requireRecentAuth(c);
      const options = await c.get('services').passkeys.registrationOptions(user);
      c.header('Cache-Control', 'no-store');
      return c.json(options);
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/passkeys/register/verify',
      summary: 'Verify the attestation and store the passkey',
      tag: 'Passkeys',
      auth: true,
      body: z.object({ response: registrationResponse, name: passkeyName.optional() }).strict(),
      responses: { 201: { description: 'Stored', schema: z.object({ passkey: passkeySchema }) } },
    },
    async (c, { body }) => {
      const { user } = await requireSession(c);
      const passkey = await c
        .get('services')
        .passkeys.verifyRegistration(
          user,
          body.response as unknown as RegistrationResponseJSON,
          body.name,
          c.get('requestContext'),
        );
      return c.json({ passkey: passkeyJson(passkey) }, 201);
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/passkeys/sign-in/options',
      summary: 'Request options for signing in with a discoverable passkey (works with conditional UI)',
      tag: 'Passkeys',
      auth: false,
      responses: {
        200: { description: 'Request options (single-use challenge)', schema: requestOptionsSchema },
      },
    },
    async (c) => {
      const options = await c.get('services').passkeys.authenticationOptions();
      c.header('Cache-Control', 'no-store');
      return c.json(options);
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'post',
      path: '/api/v1/passkeys/sign-in/verify',
      summary: 'Verify the assertion and sign in',
      tag: 'Passkeys',
      auth: false,
      body: z
        .object({
          response: authenticationResponse,
          redirectTo: z
            .string()
            .max(2048)
            .optional()
            .describe('Where to go after sign-in: a path on this origin or an allowed URL.'),
        })
        .strict(),
      responses: {
        200: {
          description:
            'Signed in; a new session cookie is set. mfa_required when the passkey did not verify the user and a second factor is due',
          schema: z.union([signedInSchema.extend({ redirectTo: z.string().nullable() }), mfaRequiredSchema]),
        },
      },
    },
    async (c, { body }) => {
      const services = c.get('services');
      const context = c.get('requestContext');
      // Checked before the assertion (see checkedRedirectTarget).
      const redirectTo = await checkedRedirectTarget(c, body.redirectTo, 'sign_in.passkey');
      const result = await services.passkeys.verifyAuthentication(
        body.response as unknown as AuthenticationResponseJSON,
        context,
      );
      const issued = await startSession(c, result.user.id, result.amr);
      return signInResponse(c, result.user, issued, { redirectTo });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'get',
      path: '/api/v1/passkeys',
      summary: "The signed-in user's passkeys",
      tag: 'Passkeys',
      auth: true,
      responses: {
        200: {
          description: 'Passkeys, oldest first',
          schema: z.object({ passkeys: z.array(passkeySchema) }),
        },
      },
    },
    async (c) => {
      const { user } = await requireSession(c);
      const passkeys = await c.get('services').passkeys.list(user);
      return c.json({ passkeys: passkeys.map(passkeyJson) });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'patch',
      path: '/api/v1/passkeys/:id',
      summary: 'Rename one of your passkeys',
      tag: 'Passkeys',
      auth: true,
      body: z.object({ name: passkeyName }).strict(),
      responses: { 200: { description: 'Renamed', schema: z.object({ passkey: passkeySchema }) } },
    },
    async (c, { body }) => {
      const { user } = await requireSession(c);
      const passkey = await c
        .get('services')
        .passkeys.rename(user, c.req.param('id') ?? '', body.name, c.get('requestContext'));
      return c.json({ passkey: passkeyJson(passkey) });
    },
  );

  apiRoute(
    app,
    registry,
    {
      method: 'delete',
      path: '/api/v1/passkeys/:id',
      summary: 'Remove one of your passkeys (step-up; refused for your last way to sign in)',
      tag: 'Passkeys',
      auth: true,
      responses: { 204: { description: 'Removed' } },
    },
    async (c) => {
      const { user } = await requireRecentAuth(c);
      await c.get('services').passkeys.remove(user, c.req.param('id') ?? '', c.get('requestContext'));
      return c.body(null, 204);
    },
  );
}
