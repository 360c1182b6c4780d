import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GrantInstance, InteractionDetails, KoaContext, Provider } from 'oidc-provider';
import type { Clock } from '../../ports/clock.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import type { RequestContext } from '../request-context.ts';
import type { ClientRegistry } from './client-registry.ts';
import type { ConnectedApps } from './connected-apps.ts';
import { acrSatisfied, acrValuesOf } from './claims.ts';
import { loginFor, type SignedInSession } from './session-link.ts';

/** One step of an authorization request that needs the user, in Gatehouse's terms. */
export interface InteractionView {
  uid: string;
  prompt: 'login' | 'consent';
  /** Why the provider asks (for example `login_prompt` for prompt=login, `max_age`). */
  reasons: string[];
  /** Epoch ms when the authorization request arrived. */
  startedAt: number;
  clientId: string;
  clientName: string;
  /** Where the browser goes afterwards (already checked against the client's registration). */
  redirectUri: string;
  /** A device authorization (RFC 8628): no redirect back to the app; the device is told. */
  device: boolean;
  /** The account of the provider session, when there is one. */
  accountId: string | null;
  maxAgeSeconds: number | null;
  /** The request's acr_values (OIDC Core §3.1.2.1), in the client's order; empty for none. */
  acrValues: string[];
  /** For prompt=login: the Gatehouse session that was current when the user was sent to sign in again ('' for none). */
  signInAfter: string | null;
  /** What the user is asked to grant now. */
  scopes: string[];
  claims: string[];
  resources: Array<{ indicator: string; scopes: string[] }>;
}

/** The interaction cookie is missing or the interaction expired: the request must start again. */
export class InteractionExpiredError extends Error {
  override name = 'InteractionExpiredError';
}

function stringParam(params: Record<string, unknown>, name: string): string | undefined {
  const value = params[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The login and consent steps, driven by Gatehouse pages (src/http/pages/interaction.ts):
 * login is "be signed in to Gatehouse" (and recently enough, for prompt=login and max_age);
 * consent is recorded in the provider's Grant, remembered per user and client.
 */
export class Interactions {
  readonly #provider: () => Provider;
  readonly #clients: ClientRegistry;
  readonly #apps: ConnectedApps;
  readonly #audit: AuditRecorder;
  readonly #clock: Clock;

  constructor(
    provider: () => Provider,
    clients: ClientRegistry,
    apps: ConnectedApps,
    audit: AuditRecorder,
    clock: Clock,
  ) {
    this.#provider = provider;
    this.#clients = clients;
    this.#apps = apps;
    this.#audit = audit;
    this.#clock = clock;
  }

  async details(request: IncomingMessage, response: ServerResponse): Promise<InteractionView> {
    let details: InteractionDetails;
    try {
      details = await this.#provider().interactionDetails(request, response);
    } catch (error) {
      throw new InteractionExpiredError('the interaction is unknown or expired', { cause: error });
    }
    const prompt = details.prompt.name;
    if (prompt !== 'login' && prompt !== 'consent')
      throw new InteractionExpiredError(`unexpected prompt ${prompt}`);
    const clientId = stringParam(details.params, 'client_id') ?? '';
    const definition = await this.#clients.definition(clientId);
    const maxAge = Number(stringParam(details.params, 'max_age'));
    const {
      missingOIDCScope = [],
      missingOIDCClaims = [],
      missingResourceScopes = {},
    } = details.prompt.details;
    return {
      uid: details.uid,
      prompt,
      reasons: details.prompt.reasons,
      startedAt: details.iat * 1000,
      clientId,
      clientName: definition?.client_name ?? clientId,
      redirectUri: stringParam(details.params, 'redirect_uri') ?? '',
      device: details.deviceCode !== undefined,
      accountId: details.session?.accountId ?? null,
      maxAgeSeconds: Number.isInteger(maxAge) && maxAge >= 0 ? maxAge : null,
      acrValues: acrValuesOf(details.params['acr_values']),
      signInAfter: details.result?.gatehouse?.signInAfter ?? null,
      scopes: missingOIDCScope,
      claims: missingOIDCClaims,
      resources: Object.entries(missingResourceScopes).map(([indicator, scopes]) => ({ indicator, scopes })),
    };
  }

  /**
   * Whether the Gatehouse session is enough for this login step (OIDC Core §3.1.2.1):
   * prompt=login wants a sign-in that happened after the request, so it is enough only once the
   * user signed in again after being sent to (markSignInRequested records the session they left
   * with; every sign-in and every step-up makes a new one); max_age wants one within that many
   * seconds, or since the request arrived; acr_values want a sign-in of that class (claims.ts).
   */
  recentEnough(view: InteractionView, session: SignedInSession): boolean {
    if (
      view.reasons.includes('login_prompt') &&
      (view.signInAfter === null || view.signInAfter === session.sessionId)
    )
      return false;
    // A sign-in since the request satisfies any max_age, 0 included.
    if (
      view.maxAgeSeconds !== null &&
      session.authTime < view.startedAt &&
      this.#clock.now() - session.authTime > view.maxAgeSeconds * 1000
    )
      return false;
    return acrSatisfied(view.acrValues, session.amr);
  }

  /**
   * Whether this login step asks for a stronger class of sign-in than the session's: then only
   * a passkey can satisfy it, and the step-up prompt offers nothing else.
   */
  wantsStrongerClass(view: InteractionView, session: SignedInSession): boolean {
    return !acrSatisfied(view.acrValues, session.amr);
  }

  /**
   * The user gave up re-authenticating (the prompt's Cancel): the client hears
   * unmet_authentication_requirements when the request asked for a class of sign-in the user
   * did not reach (OIDC Core 1.0 errata set 2 §3.1.2.6), else access_denied.
   */
  async abandon(
    request: IncomingMessage,
    response: ServerResponse,
    view: InteractionView,
    session: SignedInSession,
    context: RequestContext,
  ): Promise<string> {
    const unmet = this.wantsStrongerClass(view, session);
    await this.#audit.record(context, {
      type: 'oauth.reauthentication_abandoned',
      outcome: 'failure',
      userId: session.userId,
      details: { clientId: view.clientId, acrValues: view.acrValues },
    });
    return unmet
      ? this.#refuse(
          request,
          response,
          'unmet_authentication_requirements',
          'The sign-in the application asked for did not take place',
        )
      : this.#refuse(request, response, 'access_denied', 'End-User aborted interaction');
  }

  /** Before sending the user to sign in for this interaction: remembers which session (if any) they had. */
  async markSignInRequested(
    request: IncomingMessage,
    response: ServerResponse,
    session: SignedInSession | null,
  ): Promise<void> {
    await this.#provider().interactionResult(request, response, {
      gatehouse: { signInAfter: session?.sessionId ?? '' },
    });
  }

  /** The login step is done: the Gatehouse session is the authentication. Returns where to go next. */
  finishLogin(request: IncomingMessage, response: ServerResponse, session: SignedInSession): Promise<string> {
    return this.#provider().interactionResult(
      request,
      response,
      { login: loginFor(session) },
      { mergeWithLastSubmission: false },
    );
  }

  /** The user allowed what was asked: it joins their grant for this client (created if none). */
  async allow(
    request: IncomingMessage,
    response: ServerResponse,
    view: InteractionView,
    context: RequestContext,
  ): Promise<string> {
    const provider = this.#provider();
    const details = await provider.interactionDetails(request, response);
    const accountId = details.session?.accountId;
    if (!accountId) throw new InteractionExpiredError('no signed-in account for this consent');
    let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    grant ??= new provider.Grant({ accountId, clientId: view.clientId });
    if (view.scopes.length) grant.addOIDCScope(view.scopes.join(' '));
    if (view.claims.length) grant.addOIDCClaims(view.claims);
    for (const { indicator, scopes } of view.resources) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    await this.#audit.record(context, {
      type: 'oauth.consent_granted',
      outcome: 'success',
      userId: accountId,
      details: { clientId: view.clientId, scopes: view.scopes, resources: view.resources },
    });
    return provider.interactionResult(request, response, { consent: { grantId } });
  }

  /** The user refused: the client gets access_denied (RFC 6749 §4.1.2.1). */
  async deny(
    request: IncomingMessage,
    response: ServerResponse,
    view: InteractionView,
    context: RequestContext,
  ): Promise<string> {
    await this.#audit.record(context, {
      type: 'oauth.consent_denied',
      outcome: 'failure',
      userId: view.accountId,
      details: { clientId: view.clientId, scopes: view.scopes },
    });
    return this.#refuse(request, response, 'access_denied', 'End-User aborted interaction');
  }

  /** Ends the authorization request with an error for the client (RFC 6749 §4.1.2.1). */
  #refuse(
    request: IncomingMessage,
    response: ServerResponse,
    error: string,
    description: string,
  ): Promise<string> {
    return this.#provider().interactionResult(
      request,
      response,
      { error, error_description: description },
      { mergeWithLastSubmission: false },
    );
  }

  /**
   * The grant an authorization request builds on (provider option loadExistingGrant): the one
   * this provider session used, else the user's existing grant for the client, so consent is
   * remembered across sessions and devices. A client marked trusted gets what it asks for
   * without a consent page (first-party apps; client-policy.ts limits who may be trusted).
   */
  async loadExistingGrant(ctx: KoaContext): Promise<GrantInstance | undefined> {
    const { oidc } = ctx;
    const provider = this.#provider();
    const clientId = oidc.client?.clientId;
    const accountId = oidc.session.accountId;
    if (!clientId || !accountId) return undefined;
    const candidates = [oidc.result?.consent?.grantId, oidc.session.grantIdFor(clientId)];
    let grant: GrantInstance | undefined;
    for (const id of candidates) {
      if (!id) continue;
      grant = await provider.Grant.find(id);
      if (grant) break;
    }
    if (!grant) {
      const remembered = await this.#apps.latestGrantId(accountId, clientId);
      grant = remembered ? await provider.Grant.find(remembered) : undefined;
    }
    if (grant && (grant.accountId !== accountId || grant.clientId !== clientId)) grant = undefined;
    if ((await this.#clients.definition(clientId))?.trusted) {
      grant ??= new provider.Grant({ accountId, clientId });
      const scopes = [...oidc.requestParamOIDCScopes];
      if (scopes.length) grant.addOIDCScope(scopes.join(' '));
      if (oidc.requestParamClaims.size) grant.addOIDCClaims([...oidc.requestParamClaims]);
      for (const [indicator, server] of Object.entries(oidc.resourceServers)) {
        const allowed = new Set(server.scope.split(' '));
        const wanted = [...oidc.requestParamScopes].filter((scope) => allowed.has(scope));
        if (wanted.length) grant.addResourceScope(indicator, wanted.join(' '));
      }
      await grant.save();
    }
    return grant;
  }
}
