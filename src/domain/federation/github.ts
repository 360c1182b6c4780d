import { z } from 'zod';
import { type Fetch, FederationError, fetchJson } from './http.ts';
import { type UpstreamIdentity, usableEmail, usableName } from './identity.ts';
import type { UpstreamProvider } from './providers.ts';

const user = z.object({ id: z.number().int().positive(), login: z.string(), name: z.string().nullish() });
const emails = z.array(z.object({ email: z.string(), primary: z.boolean(), verified: z.boolean() }));

/**
 * GitHub has no ID token: the identity comes from its REST API with the access token, which is
 * used for these two calls and then dropped (never stored, never a session). The subject is the
 * numeric user id (a login can be renamed and reused); the address is the primary one, and it
 * counts as verified only when GitHub says so.
 */
export async function githubIdentity(
  provider: UpstreamProvider,
  accessToken: string,
  fetch: Fetch,
): Promise<UpstreamIdentity> {
  const headers = {
    accept: 'application/vnd.github+json',
    authorization: `Bearer ${accessToken}`,
    'x-github-api-version': '2022-11-28',
    // GitHub refuses API requests without one.
    'user-agent': 'Gatehouse',
  };
  const [profile, addresses] = await Promise.all([
    fetchJson(fetch, `${provider.apiUrl}/user`, headers),
    fetchJson(fetch, `${provider.apiUrl}/user/emails`, headers),
  ]);
  const parsedUser = user.safeParse(profile);
  const parsedEmails = emails.safeParse(addresses);
  if (!parsedUser.success || !parsedEmails.success)
    throw new FederationError('unavailable', 'GitHub API answered an unexpected shape');
  const primary = parsedEmails.data.find((entry) => entry.primary);
  const email = usableEmail(primary?.email);
  return {
    issuer: provider.issuer,
    subject: String(parsedUser.data.id),
    email,
    emailVerified: email !== null && primary?.verified === true,
    name: usableName(parsedUser.data.name) ?? usableName(parsedUser.data.login),
    amr: [],
  };
}
