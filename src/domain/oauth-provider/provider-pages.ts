import type { KoaContext } from 'oidc-provider';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { RequestContext } from '../request-context.ts';
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
export function providerCsp(scriptHashes: readonly string[], formTargets: readonly string[] = []): string {
  return [
    "default-src 'none'",
    `script-src ${scriptHashes.length ? scriptHashes.map((hash) => `'${hash}'`).join(' ') : "'strict-dynamic'"}`,
    "style-src 'self'",
    "img-src 'self' data:",
    `form-action 'self'${formTargets.map((target) => ` ${target}`).join('')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
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
  /** Koa middleware in front of every provider route. */
  middleware(ctx: KoaContext, next: () => Promise<void>): Promise<void>;
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

    async middleware(ctx, next) {
      ctx.set('content-security-policy', providerCsp([]));
      await next();
      // Routing has happened now; ctx.oidc exists only for the provider's routes.
      const oidc = (ctx as { oidc?: KoaContext['oidc'] }).oidc;
      const route = oidc?.route;
      if (!oidc || route === undefined) return;
      if (route === 'discovery' && ctx.body && typeof ctx.body === 'object') {
        // restrictResponseModes (internals.ts) withdrew form_post; the document says so.
        const document = ctx.body as { response_modes_supported?: string[] };
        document.response_modes_supported = document.response_modes_supported?.filter(
          (mode) => mode !== 'form_post',
        );
      }
      if (route === 'end_session') {
        const target = oidc.params?.['post_logout_redirect_uri'];
        const source = typeof target === 'string' ? sourceOf(target) : null;
        const csp = ctx.response.get('content-security-policy');
        if (source && csp)
          ctx.set(
            'content-security-policy',
            csp.replace("form-action 'self'", `form-action 'self' ${source}`),
          );
      }
      if (route === 'end_session_confirm' && ctx.status === 303 && oidc.params?.['logout']) {
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
      }
    },
  };
}
