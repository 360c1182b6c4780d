/**
 * An account's connected apps do not outlive it: no foreign key reaches the provider's records,
 * so deleting an account, or clearing an unproven one for the address's real owner, removes its
 * grants and refresh tokens explicitly (AccountService).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as client from 'openid-client';
import { TestClient } from '../support/http-client.ts';
import { codeFlow, discover, refusalOf, startOAuthGatehouse, WEB_APP } from '../support/oauth.ts';
import type { TestServer } from '../support/server.ts';
import { signInWithEmail, unverifiedSession } from '../support/sign-in.ts';

const OFFLINE = { scope: 'openid offline_access', prompt: 'consent' };

describe('OAuth grants end with the account', () => {
  let server: TestServer;
  before(async () => {
    server = await startOAuthGatehouse();
  });
  after(() => server.close());

  async function grantRows(userId: string): Promise<number> {
    const rows = await server.services.database.db
      .selectFrom('oauth_models')
      .select('model')
      .where('account_id', '=', userId)
      .where('model', '!=', 'Session')
      .execute();
    return rows.length;
  }

  test('deleting the account removes its grants: the app’s refresh token is refused', async () => {
    const agent = new TestClient(server.url);
    const userId = await signInWithEmail(server, agent, 'leaving@example.com');
    const config = await discover(server, WEB_APP);
    const tokens = await codeFlow(server, agent, config, OFFLINE);
    const rotated = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.ok(await grantRows(userId), 'the grant is stored');

    assert.equal((await agent.delete('/api/v1/me')).status, 204);
    assert.equal(await grantRows(userId), 0);
    assert.equal(
      (await refusalOf(client.refreshTokenGrant(config, rotated.refresh_token!))).error,
      'invalid_grant',
    );
  });

  test('the owner proving an unverified address removes the apps connected before', async () => {
    const email = 'squatted@example.com';
    const squatter = await unverifiedSession(server, 'usr_squatter', email);
    const config = await discover(server, WEB_APP);
    const tokens = await codeFlow(server, squatter, config, OFFLINE);
    assert.ok(await grantRows('usr_squatter'));

    const ownerId = await signInWithEmail(server, new TestClient(server.url), email);
    assert.equal(ownerId, 'usr_squatter', 'the owner continues with the same, cleaned account');
    assert.equal(await grantRows(ownerId), 0);
    assert.equal(
      (await refusalOf(client.refreshTokenGrant(config, tokens.refresh_token!))).error,
      'invalid_grant',
    );
    const [event] = await server.services.stores.audit.list({
      type: 'account.unproven_credentials_removed',
      userId: ownerId,
      limit: 1,
    });
    assert.ok(event, 'the removal is audited');
    const removed = (event.details as { removed: { oauth: number } }).removed;
    assert.ok(removed.oauth > 0);
  });
});
