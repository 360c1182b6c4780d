import type { IncomingMessage } from 'node:http';
import type { DeviceFlowError, KoaContext } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { GrantHandler } from 'oidc-provider/lib/helpers/weak_cache.js';
import type { OAuthConfig } from '../../config/oauth-schema.ts';
import type { Clock } from '../../ports/clock.ts';
import type { OAuthModelStore } from '../../ports/oauth-store.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { Identifier } from '../ratelimit/keys.ts';
import type { RateLimits } from '../ratelimit/rate-limits.ts';
import type { RequestContext } from '../request-context.ts';
import { type ProviderPages, providerCsp, type RenderedPage } from './provider-pages.ts';
import type { RouteAdditions } from './route-additions.ts';
import type { SessionBridge, SignedInSession } from './session-link.ts';
import { storageKey } from './sql-adapter.ts';

/**
 * The device authorization grant (RFC 8628) around oidc-provider's deviceFlow feature: the
 * user-facing pages, the sign-in gate and the limits on entering user codes, and the polling
 * pace (`interval`, `slow_down`), which the library leaves to the server.
 *
 * The user's part: /oauth/device (sign in first) → type the code → confirm it is the code on the
 * device (the app's name, the code, where the request came from) → the provider's login and
 * consent interaction (Gatehouse pages, /interaction/{uid}) → /oauth/device/{uid}: done. The
 * device polls /oauth/token meanwhile and gets authorization_pending, slow_down, expired_token,
 * access_denied or its tokens.
 */

/**
 * RFC 8628 §6.1: user codes of 8 characters from a 20-letter alphabet without vowels or
 * look-alikes (BCDFGHJKLMNPQRSTVWXZ), about 34.6 bits; case and dashes are ignored on entry.
 * With attempts limited (userCodeAttempts) and codes living minutes, guessing one is hopeless.
 */
export const USER_CODE_CHARSET = 'base-20';
export const USER_CODE_MASK = '****-****';

/** RFC 8628 §3.5: each slow_down adds 5 seconds to the interval, for good. */
const SLOW_DOWN_STEP_MS = 5000;
/** The pace of one device code, stored beside the provider's models (same table, own model name). */
const POLL_MODEL = 'GatehouseDevicePoll';
const UA_LIMIT = 200;

type DeviceSettings = OAuthConfig['deviceFlow'];

export interface DeviceFlowDeps {
  pages: ProviderPages;
  sessions: SessionBridge;
  audit: AuditRecorder;
  rateLimits: RateLimits;
  settings: DeviceSettings;
  contextOf(ctx: KoaContext): RequestContext;
}

/** The deviceFlow hooks of the provider configuration (lib/helpers/defaults.js). */
export interface DeviceFlowSources {
  deviceInfo(ctx: KoaContext): { ip: string | null; ua: string | null };
  userCodeInputSource(ctx: KoaContext, form: string, out?: unknown, err?: DeviceFlowError): Promise<void>;
  userCodeConfirmSource(
    ctx: KoaContext,
    form: string,
    client: { clientId: string; clientName: string | undefined },
    deviceInfo: { ip?: string | null; ua?: string | null } | undefined,
    userCode: string,
  ): Promise<void>;
  successSource(ctx: KoaContext): Promise<void>;
}

/** Public words for why a code was refused; `code` is stable (the page carries it as data-error). */
const PROBLEMS: Record<string, { code: string; message: string }> = {
  NotFoundError: {
    code: 'invalid_user_code',
    message: 'That code is not valid. Check the code your device shows and type it again.',
  },
  ExpiredError: {
    code: 'expired_user_code',
    message: 'That code has expired. Start again on your device to get a new code.',
  },
  AlreadyUsedError: {
    code: 'used_user_code',
    message: 'That code was already used. Start again on your device to get a new code.',
  },
  NoCodeError: { code: 'missing_user_code', message: 'Type the code your device shows.' },
};
const EXPIRED_FORM = {
  code: 'invalid_request',
  message: 'This page expired or was opened in another browser. Type the code again.',
};
const RATE_LIMITED = {
  code: 'rate_limited',
  message: 'Too many codes were tried. Wait a little and try again.',
};

function render(ctx: KoaContext, page: RenderedPage, status: number): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.body = page.html;
  ctx.set('content-security-policy', providerCsp(page.scriptHashes));
  ctx.set('cache-control', 'no-store');
}

export class DeviceFlow {
  readonly #deps: DeviceFlowDeps;
  /** The Gatehouse session that passed the sign-in gate, per request. */
  readonly #signedIn = new WeakMap<IncomingMessage, SignedInSession>();
  /** What the provider made of a submitted user code: a miss is a failed guess. */
  readonly #outcome = new WeakMap<IncomingMessage, 'found' | 'miss'>();

  constructor(deps: DeviceFlowDeps) {
    this.#deps = deps;
  }

  /** The page hooks, in Gatehouse's look (src/http/pages/oauth-provider-pages.ts) and CSP. */
  sources(): DeviceFlowSources {
    const { pages, contextOf } = this.#deps;
    return {
      // Shown on the confirmation page: where the device's request came from, as Gatehouse
      // resolves the client address (trusted proxies), not the library's own guess.
      deviceInfo: (ctx) => ({ ip: contextOf(ctx).ip, ua: ctx.get('user-agent').slice(0, UA_LIMIT) || null }),

      userCodeInputSource: async (ctx, _form, _out, err) => {
        const form = {
          action: ctx.oidc.urlFor('code_verification'),
          xsrf: ctx.oidc.session.state?.secret ?? '',
        };
        if (!err) {
          render(ctx, pages.deviceCodeEntry({ form, userCode: null, problem: null }), 200);
          return;
        }
        if (err.name === 'AbortedError') {
          // The user refused, on the confirmation page or at consent; the device's next poll
          // gets access_denied (RFC 8628 §3.5). Consent refusals are audited by interactions.ts.
          if (!err.cause) await this.#auditRefusal(ctx);
          render(ctx, pages.deviceDone({ clientName: null, outcome: 'denied' }), 200);
          return;
        }
        if (err.name === 'NotFoundError') this.#outcome.set(ctx.req, 'miss');
        const problem = PROBLEMS[err.name] ?? EXPIRED_FORM;
        render(
          ctx,
          pages.deviceCodeEntry({ form, userCode: err.userCode?.slice(0, 32) ?? null, problem }),
          400,
        );
      },

      userCodeConfirmSource: async (ctx, _form, client, deviceInfo, userCode) => {
        this.#outcome.set(ctx.req, 'found');
        const page = pages.deviceConfirm({
          action: ctx.oidc.urlFor('code_verification'),
          xsrf: ctx.oidc.session.state?.secret ?? '',
          userCode,
          clientName: client.clientName ?? client.clientId,
          clientId: client.clientId,
          device: { ip: deviceInfo?.ip ?? null, userAgent: deviceInfo?.ua ?? null },
        });
        render(ctx, page, 200);
      },

      successSource: async (ctx) => {
        const client = ctx.oidc.client;
        render(
          ctx,
          pages.deviceDone({
            clientName: client?.clientName ?? client?.clientId ?? null,
            outcome: 'approved',
          }),
          200,
        );
      },
    };
  }

  /**
   * What the device flow adds to the provider's routes (route-additions.ts):
   * - the code entry page needs a Gatehouse sign-in first (a signed-out browser goes to /sign-in
   *   and comes back, with the code from verification_uri_complete kept);
   * - every code submitted counts against the limits per client network, per user and overall,
   *   and a wrong code against the consecutive-failure delay (RFC 8628 §5.1: brute forcing the
   *   user code must be prevented);
   * - the device authorization response names the polling `interval` (RFC 8628 §3.2);
   * - a grant the client was not given is unauthorized_client at both device endpoints.
   */
  routes(): RouteAdditions {
    return [
      ['code_verification', (ctx, next) => this.#codeEntry(ctx, next)],
      [
        'device_authorization',
        async (ctx, next) => {
          await next();
          this.#addInterval(ctx);
          unauthorizedClient(ctx);
        },
      ],
      [
        'token',
        async (ctx, next) => {
          await next();
          unauthorizedClient(ctx);
        },
      ],
    ];
  }

  async #codeEntry(ctx: KoaContext, next: () => Promise<void>): Promise<void> {
    const { sessions, rateLimits, settings, contextOf, pages } = this.#deps;
    const session = await sessions.fromCookies(ctx.get('cookie') || undefined);
    if (!session) {
      this.#signInFirst(ctx);
      return;
    }
    this.#signedIn.set(ctx.req, session);
    if (ctx.method !== 'POST') {
      await next();
      return;
    }
    const identifier: Identifier = { kind: 'user', value: session.userId };
    const context = contextOf(ctx);
    const refusal =
      (await rateLimits.requests.admit('device_user_code', settings.userCodeAttempts, identifier, context)) ??
      (await rateLimits.failures.delay(identifier, context, {
        stuffing: false,
        trustedDevice: async () => false,
      }));
    if (refusal) {
      ctx.set('retry-after', String(Math.max(1, Math.ceil(refusal.retryAfterMs / 1000))));
      render(ctx, pages.deviceCodeEntry({ form: null, userCode: null, problem: RATE_LIMITED }), 429);
      return;
    }
    await next();
    const outcome = this.#outcome.get(ctx.req);
    if (outcome === 'miss') await rateLimits.failures.failed(identifier, context, { stuffing: false });
    else if (outcome === 'found') await rateLimits.failures.succeeded(identifier, context);
  }

  #signInFirst(ctx: KoaContext): void {
    // Only the code from verification_uri_complete travels along; a POST's form does not.
    const query = ctx.method === 'POST' ? null : new URL(ctx.req.url ?? '/', 'http://x').searchParams;
    const userCode = query?.get('user_code');
    const back = userCode
      ? `/oauth/device?${new URLSearchParams({ user_code: userCode.slice(0, 32) })}`
      : '/oauth/device';
    ctx.status = 303;
    ctx.set('location', `/sign-in?${new URLSearchParams({ redirectTo: back })}`);
    ctx.set('cache-control', 'no-store');
    ctx.type = 'text';
    ctx.body = 'Sign in first.';
  }

  #addInterval(ctx: KoaContext): void {
    if (ctx.status !== 200 || !ctx.body || typeof ctx.body !== 'object') return;
    (ctx.body as { interval?: number }).interval = this.#deps.settings.pollIntervalMs / 1000;
  }

  /** The user refused on the confirmation page: as a refused consent (the device gets access_denied). */
  async #auditRefusal(ctx: KoaContext): Promise<void> {
    await this.#deps.audit.record(this.#deps.contextOf(ctx), {
      type: 'oauth.consent_denied',
      outcome: 'failure',
      userId: this.#signedIn.get(ctx.req)?.userId ?? null,
      details: { clientId: ctx.oidc.entities.DeviceCode?.clientId ?? null, flow: 'device' },
    });
  }
}

/** The library's words when a client asks for a grant it was not given (lib/actions/token.js, lib/actions/authorization/client.js). */
const GRANT_NOT_ALLOWED = /^(requested grant type|urn:[\w:.-]+) is not allowed for this client$/;

/**
 * A client asking for a grant type it was not given is `unauthorized_client` (RFC 6749 §5.2,
 * which RFC 8628 §3.2 refers to for the device authorization endpoint); oidc-provider answers
 * invalid_request. The code is corrected on the way out; the description stays.
 */
function unauthorizedClient(ctx: KoaContext): void {
  const body = ctx.body as { error?: unknown; error_description?: unknown } | null;
  if (
    ctx.status === 400 &&
    body?.error === 'invalid_request' &&
    typeof body.error_description === 'string' &&
    GRANT_NOT_ALLOWED.test(body.error_description)
  )
    body.error = 'unauthorized_client';
}

interface PollPace {
  lastPollAt: number;
  intervalMs: number;
}

/**
 * Wraps the device_code grant handler with the polling pace of RFC 8628 §3.5, which
 * oidc-provider does not enforce: while authorization is pending, a poll sooner than the
 * interval after the previous one is answered `slow_down`, and the interval grows by 5 s for
 * this and every later poll. A device that polls at its pace sees authorization_pending, then
 * its tokens, access_denied or expired_token, all from the provider. Two polls at the very same
 * moment may both pass: the pace is for well-behaved clients; the device code's 256 bits and
 * short life are what protect it.
 */
export function pacePolling(
  original: GrantHandler,
  options: { models: OAuthModelStore; clock: Clock; intervalMs: number },
): GrantHandler {
  const { models, clock } = options;
  return async (ctx) => {
    const value = ctx.oidc.params?.['device_code'];
    const clientId = ctx.oidc.client?.clientId;
    if (typeof value !== 'string' || !clientId) return original(ctx);
    const key = storageKey('DeviceCode', value);
    const code = await models.find('DeviceCode', key);
    if (!code || code.clientId !== clientId || code.consumedAt !== null || code.accountId !== null)
      return original(ctx);
    const payload = JSON.parse(code.payload) as { error?: string; exp?: number };
    // Only a pending request is paced: a decided or expired one gets its answer at once.
    if (payload.error || (payload.exp !== undefined && payload.exp * 1000 <= Date.now()))
      return original(ctx);
    const now = clock.now();
    const stored = await models.find(POLL_MODEL, key);
    const previous = stored ? (JSON.parse(stored.payload) as PollPace) : null;
    const intervalMs = previous?.intervalMs ?? options.intervalMs;
    const tooSoon = previous !== null && now - previous.lastPollAt < intervalMs;
    const pace: PollPace = {
      lastPollAt: now,
      intervalMs: tooSoon ? intervalMs + SLOW_DOWN_STEP_MS : intervalMs,
    };
    await models.upsert({
      model: POLL_MODEL,
      id: key,
      payload: JSON.stringify(pace),
      grantId: null,
      uid: null,
      userCode: null,
      accountId: null,
      clientId,
      consumedAt: null,
      expiresAt: code.expiresAt,
    });
    if (tooSoon) throw new errors.SlowDown(`poll at most every ${pace.intervalMs / 1000} seconds`);
    return original(ctx);
  };
}
