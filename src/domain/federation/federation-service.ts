import type { Config } from '../../config/schema.ts';
import { AppError } from '../../errors/app-error.ts';
import type { Clock } from '../../ports/clock.ts';
import type {
  FederatedIdentityRecord,
  FederatedIdentityStore,
  FlowReplayStore,
} from '../../ports/federated-identity-store.ts';
import type { UserRecord } from '../../ports/user-store.ts';
import type { AuditRecorder } from '../audit/audit-recorder.ts';
import { deriveKey, randomId, randomToken } from '../crypto/secrets.ts';
import { federatedAmr } from '../mfa/factor-policy.ts';
import type { RedirectPolicy } from '../redirects/redirect-policy.ts';
import type { RequestContext } from '../request-context.ts';
import type { UserService } from '../users/user-service.ts';
import { githubIdentity } from './github.ts';
import { type Fetch, FederationError } from './http.ts';
import { identityFromClaims, type UpstreamIdentity } from './identity.ts';
import type { UpstreamProvider } from './providers.ts';
import { SealedTokens } from './sealed-token.ts';
import { type AuthorizationBinding, UpstreamClient } from './upstream-client.ts';

/** One authorization request, kept in the browser that started it (the flow cookie). */
export interface FederationFlow extends AuthorizationBinding {
  id: string;
  provider: string;
  /** Absolute URL checked by the redirect policy at the start, or null. */
  redirectTo: string | null;
  /** Set when a signed-in user is connecting a provider from their account page. */
  linkUserId: string | null;
  expiresAt: number;
}

/** A provider account whose verified address matches an existing account, waiting for its owner. */
export interface PendingLink {
  id: string;
  provider: string;
  userId: string;
  issuer: string;
  subject: string;
  email: string;
  emailVerified: boolean;
  redirectTo: string | null;
  /** The owner must sign in after this moment: an older session proves nothing about this link. */
  createdAt: number;
  expiresAt: number;
}

export type FederationOutcome =
  | { kind: 'signed_in'; user: UserRecord; created: boolean; amr: string[]; redirectTo: string | null }
  | { kind: 'linked'; user: UserRecord; identity: FederatedIdentityRecord; redirectTo: string | null }
  | { kind: 'link_required'; linkToken: string; link: PendingLink };

/** The caller's session, in domain terms. */
export interface SessionFacts {
  userId: string;
  sessionId: string;
  authTime: number;
}

export interface FederationDeps {
  providers: UpstreamProvider[];
  identities: FederatedIdentityStore;
  replay: FlowReplayStore;
  users: UserService;
  audit: AuditRecorder;
  redirects: RedirectPolicy;
  clock: Clock;
  config: Config;
  fetch: Fetch;
}

/**
 * "Sign in with Google, Apple, Microsoft, GitHub, GitLab or any OpenID Connect provider".
 * The provider's verified identity becomes a Gatehouse session; its tokens never do.
 *
 * - Identities are keyed by (issuer, subject), never by email.
 * - A new identity whose *verified* address belongs to an existing account is not merged: the
 *   owner signs in (passkey, email link or code) in the same browser, then confirms the link.
 * - Unverified addresses never link and never create an account: an account created from an
 *   address nobody proved could later be taken over by, or take over, its real owner
 *   ("pre-account hijacking").
 */
export class FederationService {
  readonly #deps: FederationDeps;
  readonly #clients: Map<string, UpstreamClient>;
  readonly #flows: SealedTokens<FederationFlow>;
  readonly #links: SealedTokens<PendingLink>;

  constructor(deps: FederationDeps) {
    this.#deps = deps;
    this.#clients = new Map(
      deps.providers.map((provider) => [provider.id, new UpstreamClient(provider, deps.fetch, deps.clock)]),
    );
    this.#flows = new SealedTokens(deriveKey(deps.config.secret, 'federation-flow'), 'flow', deps.clock);
    this.#links = new SealedTokens(deriveKey(deps.config.secret, 'federation-link'), 'link', deps.clock);
  }

  get providers(): readonly UpstreamProvider[] {
    return this.#deps.providers;
  }

  provider(id: string): UpstreamProvider | undefined {
    return this.#clients.get(id)?.provider;
  }

  /** Starts a sign-in (or, with `linkUserId`, a link) at the provider. */
  async start(
    input: { providerId: string; redirectTo?: string | undefined; linkUserId?: string | null },
    context: RequestContext,
  ): Promise<{ authorizationUrl: string; flowToken: string; flow: FederationFlow }> {
    const client = this.#client(input.providerId);
    const redirectTo = await this.#checkRedirect(input.redirectTo, context);
    const oidc = client.provider.protocol === 'oidc';
    const flow: FederationFlow = {
      id: randomId(),
      provider: client.provider.id,
      state: randomToken(),
      nonce: oidc ? randomToken() : null,
      // 43 base64url characters: a valid RFC 7636 §4.1 verifier with 256 bits of entropy.
      codeVerifier: randomToken(),
      redirectTo,
      linkUserId: input.linkUserId ?? null,
      expiresAt: this.#deps.clock.now() + this.#deps.config.federation.flowTtlMs,
    };
    let url: URL;
    try {
      url = await client.authorizationUrl(flow);
    } catch (error) {
      throw await this.#failed(error, flow.provider, flow.linkUserId, context);
    }
    return { authorizationUrl: url.href, flowToken: await this.#flows.seal(flow), flow };
  }

  /**
   * The provider's answer. Every check runs before anything is created; a failure is audited
   * and thrown as FederationError.
   */
  async finish(
    input: {
      providerId: string;
      response: URLSearchParams;
      flowToken: string | undefined;
      /** Apple's `user` form field (name, first authorization only). */
      appleUser?: string | null;
      session: SessionFacts | null;
    },
    context: RequestContext,
  ): Promise<FederationOutcome> {
    const client = this.#client(input.providerId);
    const flow = await this.#flows.open(input.flowToken);
    try {
      // Bound to this browser: the flow cookie is the only place the state lives.
      if (!flow) throw new FederationError('expired', 'no valid flow cookie in this browser');
      // Bound to this provider: a state minted for another provider's flow (mix-up) is refused.
      if (flow.provider !== client.provider.id)
        throw new FederationError('failed', `flow was started for provider ${flow.provider}`);
      // Single use: a copied cookie and callback URL cannot be redeemed a second time.
      if (!(await this.#deps.replay.claim(flow.id, flow.expiresAt)))
        throw new FederationError('expired', 'flow already used');
      const tokens = await client.exchange(input.response, flow);
      const identity = tokens.claims
        ? identityFromClaims(client.provider.preset, tokens.claims, input.appleUser ?? null)
        : await githubIdentity(client.provider, tokens.accessToken, this.#deps.fetch);
      return flow.linkUserId
        ? await this.#link(client.provider, flow, identity, input.session, context)
        : await this.#signIn(client.provider, flow, identity, context);
    } catch (error) {
      throw await this.#failed(error, client.provider.id, flow?.linkUserId ?? null, context);
    }
  }

  /** Completes a pending link for its owner, who has signed in since it was made. */
  async completeLink(
    input: { linkToken: string | undefined; session: SessionFacts },
    context: RequestContext,
  ): Promise<{ identity: FederatedIdentityRecord; redirectTo: string | null }> {
    const { audit, identities, replay, clock } = this.#deps;
    const link = await this.#links.open(input.linkToken);
    const refuse = async (reason: string, error: AppError): Promise<never> => {
      await audit.record(context, {
        type: 'identity.linked',
        outcome: 'failure',
        userId: input.session.userId,
        sessionId: input.session.sessionId,
        details: { provider: link?.provider ?? null, reason },
      });
      throw error;
    };
    if (!link)
      return refuse(
        'no_pending_link',
        new AppError(
          'invalid_or_expired',
          'There is no account waiting to be linked in this browser, or it expired.',
        ),
      );
    const name = this.provider(link.provider)?.displayName ?? link.provider;
    if (link.userId !== input.session.userId)
      return refuse(
        'other_account',
        new AppError('forbidden', `Sign in to the account for ${link.email} to link ${name}.`),
      );
    if (input.session.authTime <= link.createdAt)
      return refuse(
        'sign_in_before_link',
        new AppError('forbidden', `Sign in again to confirm that you want to link ${name}.`),
      );
    if (!(await replay.claim(link.id, link.expiresAt)))
      return refuse('link_already_used', new AppError('invalid_or_expired', 'This link was already used.'));
    const now = clock.now();
    const { identity, created } = await identities.createOrGet({
      id: randomId(),
      userId: link.userId,
      providerId: link.provider,
      issuer: link.issuer,
      subject: link.subject,
      email: link.email,
      emailVerified: link.emailVerified,
      createdAt: now,
      lastUsedAt: null,
    });
    if (!created && identity.userId !== link.userId)
      return refuse(
        'linked_to_another_account',
        new AppError('conflict', `That ${name} account is already linked to another account.`),
      );
    await audit.record(context, {
      type: 'identity.linked',
      outcome: 'success',
      userId: link.userId,
      sessionId: input.session.sessionId,
      details: { provider: link.provider, identityId: identity.id, via: 'pending_link' },
    });
    return { identity, redirectTo: link.redirectTo && this.#deps.redirects.resolve(link.redirectTo) };
  }

  /** The pending link in this browser, if it is still valid (for the pages to show it). */
  pendingLink(linkToken: string | undefined): Promise<PendingLink | null> {
    return this.#links.open(linkToken);
  }

  list(userId: string): Promise<FederatedIdentityRecord[]> {
    return this.#deps.identities.listByUser(userId);
  }

  /** Unlinks one of the user's identities, unless it is their last way to sign in. */
  async unlink(user: UserRecord, identityId: string, context: RequestContext): Promise<void> {
    const { identities, users, audit } = this.#deps;
    const identity = (await identities.listByUser(user.id)).find((entry) => entry.id === identityId);
    if (!identity) throw new AppError('not_found', 'No such linked account.');
    if ((await users.signInMethodCount(user)) <= 1) {
      throw new AppError(
        'last_sign_in_method',
        'This is your only way to sign in. Add a passkey or verify your email address before unlinking it.',
      );
    }
    if (!(await identities.delete(identity.id, user.id)))
      throw new AppError('not_found', 'No such linked account.');
    await audit.record(context, {
      type: 'identity.unlinked',
      outcome: 'success',
      userId: user.id,
      details: { provider: identity.providerId, identityId: identity.id },
    });
  }

  async #signIn(
    provider: UpstreamProvider,
    flow: FederationFlow,
    identity: UpstreamIdentity,
    context: RequestContext,
  ): Promise<FederationOutcome> {
    const { identities, users, audit, clock, config } = this.#deps;
    const amr = federatedAmr(identity.amr);
    const redirectTo = flow.redirectTo && this.#deps.redirects.resolve(flow.redirectTo);
    const known = await identities.findBySubject(identity.issuer, identity.subject);
    if (known) {
      const user = await users.findById(known.userId);
      if (!user) throw new FederationError('failed', 'linked user no longer exists');
      await identities.recordUse(known.id, clock.now(), identity.email, identity.emailVerified);
      await this.#recordSignIn(context, user.id, provider.id, known.id);
      return { kind: 'signed_in', user, created: false, amr, redirectTo };
    }
    if (!identity.email) throw new FederationError('no_email', 'the provider shared no usable address');
    if (!identity.emailVerified)
      throw new FederationError('email_unverified', 'the provider does not vouch for the address');
    const owner = await users.findByEmail(identity.email);
    if (owner) return this.#holdForOwner(provider, flow, identity, owner, identity.email, context);
    if (config.signUp === 'closed')
      throw new FederationError('sign_up_closed', 'no account and sign-up is closed');
    const { user, created } = await users.signInByVerifiedEmail(identity.email);
    // Created by a concurrent sign-in a moment ago: that account is someone's; hold the link too.
    if (!created) return this.#holdForOwner(provider, flow, identity, user, identity.email, context);
    const named = identity.name ? ((await users.updateProfile(user.id, identity.name)) ?? user) : user;
    const now = clock.now();
    const linked = await identities.createOrGet({
      id: randomId(),
      userId: user.id,
      providerId: provider.id,
      issuer: identity.issuer,
      subject: identity.subject,
      email: identity.email,
      emailVerified: identity.emailVerified,
      createdAt: now,
      lastUsedAt: now,
    });
    if (linked.identity.userId !== user.id)
      throw new FederationError('already_linked', 'linked concurrently');
    await audit.record(context, {
      type: 'user.created',
      outcome: 'success',
      userId: user.id,
      details: { via: 'sign_in.federated', provider: provider.id },
    });
    await audit.record(context, {
      type: 'identity.linked',
      outcome: 'success',
      userId: user.id,
      details: { provider: provider.id, identityId: linked.identity.id, via: 'sign_up' },
    });
    await this.#recordSignIn(context, user.id, provider.id, linked.identity.id);
    return { kind: 'signed_in', user: named, created: true, amr, redirectTo };
  }

  async #holdForOwner(
    provider: UpstreamProvider,
    flow: FederationFlow,
    identity: UpstreamIdentity,
    owner: UserRecord,
    email: string,
    context: RequestContext,
  ): Promise<FederationOutcome> {
    const now = this.#deps.clock.now();
    const link: PendingLink = {
      id: randomId(),
      provider: provider.id,
      userId: owner.id,
      issuer: identity.issuer,
      subject: identity.subject,
      email,
      emailVerified: identity.emailVerified,
      redirectTo: flow.redirectTo,
      createdAt: now,
      expiresAt: now + this.#deps.config.federation.linkTtlMs,
    };
    await this.#deps.audit.record(context, {
      type: 'identity.link_pending',
      outcome: 'success',
      userId: owner.id,
      details: { provider: provider.id },
    });
    return { kind: 'link_required', linkToken: await this.#links.seal(link), link };
  }

  /** Connecting a provider from the account page, by the signed-in user who started it. */
  async #link(
    provider: UpstreamProvider,
    flow: FederationFlow,
    identity: UpstreamIdentity,
    session: SessionFacts | null,
    context: RequestContext,
  ): Promise<FederationOutcome> {
    const { identities, users, audit, clock } = this.#deps;
    // The browser must still be signed in as the user who asked: a sign-out or another
    // account's sign-in in between ends the link.
    if (!session || session.userId !== flow.linkUserId)
      throw new FederationError('failed', 'the session that started the link is gone');
    const user = await users.findById(session.userId);
    if (!user) throw new FederationError('failed', 'user no longer exists');
    const now = clock.now();
    const { identity: linked, created } = await identities.createOrGet({
      id: randomId(),
      userId: user.id,
      providerId: provider.id,
      issuer: identity.issuer,
      subject: identity.subject,
      email: identity.email,
      emailVerified: identity.emailVerified,
      createdAt: now,
      lastUsedAt: null,
    });
    if (linked.userId !== user.id)
      throw new FederationError('already_linked', 'the provider account belongs to another user');
    if (created)
      await audit.record(context, {
        type: 'identity.linked',
        outcome: 'success',
        userId: user.id,
        sessionId: session.sessionId,
        details: { provider: provider.id, identityId: linked.id, via: 'account' },
      });
    const redirectTo = flow.redirectTo && this.#deps.redirects.resolve(flow.redirectTo);
    return { kind: 'linked', user, identity: linked, redirectTo };
  }

  #recordSignIn(
    context: RequestContext,
    userId: string,
    provider: string,
    identityId: string,
  ): Promise<void> {
    return this.#deps.audit.record(context, {
      type: 'sign_in.federated',
      outcome: 'success',
      userId,
      details: { factor: 'federated', provider, identityId },
    });
  }

  /** Audits a failure and returns it as a FederationError (other errors pass through). */
  async #failed(
    error: unknown,
    provider: string,
    linkUserId: string | null,
    context: RequestContext,
  ): Promise<unknown> {
    if (!(error instanceof FederationError)) return error;
    await this.#deps.audit.record(context, {
      type: linkUserId ? 'identity.linked' : 'sign_in.federated',
      outcome: 'failure',
      userId: linkUserId,
      details: { factor: 'federated', provider, reason: error.reason, detail: error.detail.slice(0, 300) },
    });
    return error;
  }

  #client(providerId: string): UpstreamClient {
    const client = this.#clients.get(providerId);
    if (!client) throw new AppError('not_found', 'No such sign-in provider.');
    return client;
  }

  async #checkRedirect(target: string | undefined, context: RequestContext): Promise<string | null> {
    if (target === undefined || target === '') return null;
    const resolved = this.#deps.redirects.resolve(target);
    if (resolved) return resolved;
    await this.#deps.audit.record(context, {
      type: 'redirect.refused',
      outcome: 'failure',
      details: { flow: 'sign_in.federated', target: target.slice(0, 200) },
    });
    throw new AppError('redirect_refused', 'That return address is not allowed.');
  }
}
