import type { KoaContext } from 'oidc-provider';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { RequestContext } from '../request-context.ts';
import type { RouteAdditions } from './route-additions.ts';
import type { SessionBridge } from './session-link.ts';

/** A page the provider answers with itself, rendered by Gatehouse (src/http/pages/oauth-provider-pages.ts). */
export interface RenderedPage {
  html: string;
  /** 'sha256-…' sources of the page's inline scripts, for its CSP. */
  scriptHashes: string[];
}

export interface ProviderPages {
  /** An error the provider cannot send to the client (unknown client, redirect_uri not registered…). */
  error(input: { error: string; description: string | null }): RenderedPage;
  /**
   * RP-initiated logout: asks the user to confirm, or (automatic) submits at once because the
   * request carried an id_token_hint for the signed-in user (ASVS 5.0 V10.6.2).
   */
  logout(input: {
    action: string;
    xsrf: string;
    clientName: string | null;
    automatic: boolean;
  }): RenderedPage;
  loggedOut(input: { clientName: string | null }): RenderedPage;
  /**
   * Device authorization (RFC 8628, device-flow.ts): the page where a signed-in user types the
   * code their device shows. `form` is null when no attempt may be made now (rate limited).
   */
  deviceCodeEntry(input: {
    form: { action: string; xsrf: string } | null;
    userCode: string | null;
    problem: { code: string; message: string } | null;
  }): RenderedPage;
  /** "Is this the code on your device?": names the app and the device's request (RFC 8628 §5.4). */
  deviceConfirm(input: {
    action: string;
    xsrf: string;
    userCode: string;
    clientName: string;
    clientId: string;
    device: { ip: string | null; userAgent: string | null };
  }): RenderedPage;
  /** The end of the user's part: the device gets its tokens (approved) or access_denied (denied). */
  deviceDone(input: { clientName: string | null; outcome: 'approved' | 'denied' }): RenderedPage;
}

/**
 * CSP of provider responses. No script runs unless the response names its hash: the library's
 * own auto-submitting forms (lib/helpers/script_src_sha.js) append one to `script-src`, so the
 * directive must exist. Forms post to us; a logout form's redirect to the client's
 * post_logout_redirect_uri needs that origin in form-action (Chromium applies form-action to the
 * redirects that follow a submission).
 */
export function providerCsp(scriptHashes: readonly string[]): string {
  return [
    "default-src 'none'",
    `script-src ${scriptHashes.length ? scriptHashes.map((hash) => `'${hash}'`).join(' ') : "'strict-dynamic'"}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** The CSP of every provider response that sets no page of its own (no scripts, forms to us). */
const BASE_CSP = providerCsp([]);

/** Sets the base CSP; a page rendered later replaces it with its own. */
export function setProviderCsp(ctx: KoaContext): void {
  ctx.set('content-security-policy', BASE_CSP);
}

/** The provider's context: set once its router has matched the request. */
function providerContext(ctx: KoaContext): KoaContext['oidc'] | undefined {
  return (ctx as { oidc?: KoaContext['oidc'] }).oidc;
}

/** The origin of a URI for a CSP source list: scheme-only for private-use schemes. */
function sourceOf(uri: string): string | null {
  try {
    const url = new URL(uri);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : url.protocol;
  } catch {
    return null;
  }
}

function send(ctx: KoaContext, page: RenderedPage): void {
  ctx.type = 'html';
  ctx.body = page.html;
  ctx.set('content-security-policy', providerCsp(page.scriptHashes));
}

interface ProviderResponses {
  renderError(ctx: KoaContext, out: { error: string; error_description?: string }): void;
  logoutSource(ctx: KoaContext): Promise<void>;
  postLogoutSuccessSource(ctx: KoaContext): Promise<void>;
  /** What the provider's discovery and logout routes need added (route-additions.ts). */
  routes: RouteAdditions;
}

export function providerResponses(
  pages: ProviderPages,
  contextOf: (ctx: KoaContext) => RequestContext,
  sessions: SessionBridge,
  audit: AuditRecorder,
): ProviderResponses {
  return {
    renderError(ctx, out) {
      send(ctx, pages.error({ error: out.error, description: out.error_description ?? null }));
    },

    async logoutSource(ctx) {
      const { session, entities, client } = ctx.oidc;
      const hint = entities.IdTokenHint?.payload;
      send(
        ctx,
        pages.logout({
          action: ctx.oidc.urlFor('end_session_confirm'),
          xsrf: session.state?.secret ?? '',
          clientName: client?.clientName ?? client?.clientId ?? null,
          // The provider has verified the hint's signature and audience already.
          automatic: hint?.sub !== undefined && hint.sub === session.accountId,
        }),
      );
    },

    async postLogoutSuccessSource(ctx) {
      const { client } = ctx.oidc;
      send(ctx, pages.loggedOut({ clientName: client?.clientName ?? client?.clientId ?? null }));
    },

    routes: [
      [
        'discovery',
        async (ctx, next) => {
          await next();
          // restrictResponseModes (internals.ts) withdrew form_post; the document says so.
          const document = ctx.body as { response_modes_supported?: string[] } | null;
          if (document && typeof document === 'object')
            document.response_modes_supported = document.response_modes_supported?.filter(
              (mode) => mode !== 'form_post',
            );
        },
      ],
      [
        'end_session',
        async (ctx, next) => {
          await next();
          const target = providerContext(ctx)?.params?.['post_logout_redirect_uri'];
          const source = typeof target === 'string' ? sourceOf(target) : null;
          const csp = ctx.response.get('content-security-policy');
          if (source && csp)
            ctx.set(
              'content-security-policy',
              csp.replace("form-action 'self'", `form-action 'self' ${source}`),
            );
        },
      ],
      [
        'end_session_confirm',
        async (ctx, next) => {
          await next();
          const oidc = providerContext(ctx);
          if (!oidc || ctx.status !== 303 || !oidc.params?.['logout']) return;
          // The provider session is gone (its account is still on the object): the Gatehouse
          // session of the same user goes with it, or signing in again would be silent.
          const accountId = oidc.session.accountId;
          if (!accountId) return;
          const clientId = oidc.client?.clientId ?? null;
          const cookies = await sessions.signOut(
            ctx.get('cookie') || undefined,
            accountId,
            contextOf(ctx),
            clientId,
          );
          for (const cookie of cookies) ctx.append('Set-Cookie', cookie);
          await audit.record(contextOf(ctx), {
            type: 'oauth.logout',
            outcome: 'success',
            userId: accountId,
            details: { clientId },
          });
        },
      ],
    ],
  };
}
