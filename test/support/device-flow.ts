/**
 * The device authorization grant's user side (RFC 8628), for tests that drive it over HTTP:
 * a TV app, the forms of /oauth/device, and the whole approval as a signed-in agent.
 */
import assert from 'node:assert/strict';
import { DEVICE_CODE_GRANT } from '../../src/domain/oauth-provider/client-policy.ts';
import type { TestClient, TestResponse } from './http-client.ts';
import { API, followAuthorization } from './oauth.ts';
import type { TestServer } from './server.ts';

/** A TV app: public, no redirect URI, the device grant and refresh tokens, one API. */
export const TV_APP = {
  client_id: 'tv-app',
  client_name: 'Living Room TV',
  application_type: 'native',
  grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
  scope: 'openid email offline_access read',
  resources: [API],
};

export function xsrfOf(page: TestResponse): string {
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.text)?.[1];
  assert.ok(xsrf, `a form with its xsrf token: ${page.text.slice(0, 300)}`);
  return xsrf;
}

export function postForm(agent: TestClient, form: Record<string, string>): Promise<TestResponse> {
  return agent.request('POST', '/oauth/device', new URLSearchParams(form).toString(), {
    'content-type': 'application/x-www-form-urlencoded',
  });
}

/** Opens /oauth/device as the signed-in agent and submits `userCode`: the confirmation page, or the entry page with a problem. */
export async function enterCode(agent: TestClient, userCode: string): Promise<TestResponse> {
  const entry = await agent.get('/oauth/device');
  assert.equal(entry.status, 200, entry.text.slice(0, 300));
  return postForm(agent, { xsrf: xsrfOf(entry), user_code: userCode });
}

export function errorCodeOf(page: TestResponse): string | undefined {
  return /data-error="([a-z_]+)"/.exec(page.text)?.[1];
}

/** The user's part through the HTTP agent: enter, confirm, answer consent. Returns the last page. */
export async function approveDevice(
  server: Pick<TestServer, 'url' | 'origin'>,
  agent: TestClient,
  userCode: string,
  consent: 'allow' | 'deny' = 'allow',
) {
  const confirmation = await enterCode(agent, userCode);
  assert.equal(confirmation.status, 200, confirmation.text.slice(0, 300));
  const confirmed = await postForm(agent, {
    xsrf: xsrfOf(confirmation),
    user_code: userCode,
    confirm: 'yes',
  });
  assert.equal(confirmed.status, 303, confirmed.text.slice(0, 300));
  return followAuthorization(
    server,
    agent,
    new URL(confirmed.headers.get('location') ?? '', server.url),
    consent,
  );
}
