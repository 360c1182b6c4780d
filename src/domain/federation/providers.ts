import { createPrivateKey } from 'node:crypto';
import { ConfigError } from '../../config/load.ts';
import type { Config } from '../../config/schema.ts';

type ProviderConfig = Config['federation']['providers'][number];
export type FederationPreset = ProviderConfig['preset'];

/** A configured provider with its preset's defaults filled in and its URLs checked. */
export interface UpstreamProvider {
  id: string;
  preset: FederationPreset;
  /** GitHub speaks plain OAuth 2.0 (identity from its API); everything else OpenID Connect. */
  protocol: 'oidc' | 'github';
  displayName: string;
  icon: string | null;
  /**
   * OIDC: the issuer we discover from (for Microsoft's multi-tenant endpoints the discovered
   * issuer is a `{tenantid}` template, checked against each token's `tid`). GitHub: the web
   * origin, which is also the issuer half of the identity key.
   */
  issuer: string;
  clientId: string;
  clientSecret: string | null;
  apple: { teamId: string; keyId: string; privateKey: string } | null;
  /** GitHub only: REST API base, without a trailing slash. */
  apiUrl: string | null;
  scopes: string[];
  responseMode: 'query' | 'form_post';
  /** The redirect URI registered at the provider: exact match (OAuth 2.1 §4.1.3). */
  callbackUrl: string;
  /**
   * The provider is a local one on http://127.0.0.1 or localhost (development and tests only:
   * refused in production). Only then are its plain-http endpoints used.
   */
  allowHttp: boolean;
}

const OIDC_SCOPES = ['openid', 'email', 'profile'];

interface Preset {
  displayName: string;
  issuer?: (provider: ProviderConfig) => string;
  scopes: string[];
  responseMode?: 'form_post';
}

const PRESETS: Record<FederationPreset, Preset> = {
  oidc: { displayName: '', scopes: OIDC_SCOPES },
  google: { displayName: 'Google', issuer: () => 'https://accounts.google.com', scopes: OIDC_SCOPES },
  // Apple returns to us by a cross-site form POST whenever name or email is requested.
  apple: {
    displayName: 'Apple',
    issuer: () => 'https://appleid.apple.com',
    scopes: ['openid', 'name', 'email'],
    responseMode: 'form_post',
  },
  microsoft: {
    displayName: 'Microsoft',
    issuer: (p) => `https://login.microsoftonline.com/${p.tenant ?? 'common'}/v2.0`,
    scopes: OIDC_SCOPES,
  },
  gitlab: { displayName: 'GitLab', issuer: () => 'https://gitlab.com', scopes: OIDC_SCOPES },
  github: { displayName: 'GitHub', issuer: () => 'https://github.com', scopes: ['read:user', 'user:email'] },
};

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** http:// on this machine: the one plain-http provider address accepted, outside production. */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK.has(url.hostname);
}

/**
 * Every provider URL must be https: discovery, keys and tokens fetched over plain http could be
 * swapped by anyone on the path. A local test provider on a loopback address is the one
 * exception, and never in production.
 */
function checkUrl(value: string, provider: string, field: string, loopbackHttp: boolean): void {
  const url = new URL(value);
  if (url.protocol === 'https:' || (loopbackHttp && isLoopbackHttp(url))) return;
  throw new ConfigError(
    `federation provider "${provider}": ${field} must be an https:// URL${loopbackHttp ? ' (http only on a loopback address)' : ''}`,
  );
}

/** Apple signs client secrets with ES256: the key must be a P-256 private key, checked at start-up. */
function checkAppleKey(pem: string, provider: string): void {
  let curve: string | undefined;
  try {
    curve = createPrivateKey(pem).asymmetricKeyDetails?.namedCurve;
  } catch {
    curve = undefined;
  }
  if (curve !== 'prime256v1')
    throw new ConfigError(
      `federation provider "${provider}": privateKey must be the P-256 key (.p8 file) from Apple`,
    );
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

/** Resolves `federation.providers` once at start-up; throws ConfigError on an unusable one. */
export function resolveProviders(config: Config): UpstreamProvider[] {
  const loopbackHttp = config.env !== 'production';
  return config.federation.providers.map((provider): UpstreamProvider => {
    const preset = PRESETS[provider.preset];
    const issuer = provider.issuer ?? preset.issuer?.(provider);
    if (!issuer) throw new ConfigError(`federation provider "${provider.id}": issuer is required`);
    checkUrl(issuer, provider.id, 'issuer', loopbackHttp);
    const github = provider.preset === 'github';
    const apiUrl = github ? (provider.apiUrl ?? 'https://api.github.com') : null;
    if (apiUrl) checkUrl(apiUrl, provider.id, 'apiUrl', loopbackHttp);
    if (provider.privateKey) checkAppleKey(provider.privateKey, provider.id);
    return {
      id: provider.id,
      preset: provider.preset,
      protocol: github ? 'github' : 'oidc',
      displayName: provider.displayName ?? (preset.displayName || provider.id),
      icon: provider.icon ?? null,
      // An OIDC issuer is compared exactly (RFC 8414 §3.3), so it stays as configured; GitHub's
      // origin only prefixes paths.
      issuer: github ? withoutTrailingSlash(issuer) : issuer,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret ?? null,
      apple:
        provider.teamId && provider.keyId && provider.privateKey
          ? { teamId: provider.teamId, keyId: provider.keyId, privateKey: provider.privateKey }
          : null,
      apiUrl: apiUrl && withoutTrailingSlash(apiUrl),
      scopes: provider.scopes ?? preset.scopes,
      responseMode: provider.responseMode ?? preset.responseMode ?? 'query',
      callbackUrl: `${config.origin}/auth/${provider.id}/callback`,
      allowHttp: [issuer, apiUrl].some((url) => url?.startsWith('http:')),
    };
  });
}
