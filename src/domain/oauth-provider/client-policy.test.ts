import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type ClientDefinition, clientProblems, redirectUriProblem } from './client-policy.ts';

describe('redirect URI policy', () => {
  test('web clients: https only, in canonical form, no fragment or credentials', () => {
    assert.equal(redirectUriProblem('https://app.example.com/callback', 'web'), null);
    for (const uri of [
      'http://app.example.com/callback',
      'http://localhost:3000/callback',
      'https://app.example.com/callback#x',
      'https://user:pass@app.example.com/callback',
      'https://APP.example.com/callback',
      'https://app.example.com',
      'com.example.app:/callback',
      'javascript:alert(1)',
      '/callback',
      'https://app.example.com/call back',
      'https://app.example.com/\u202ecallback',
    ]) {
      assert.notEqual(redirectUriProblem(uri, 'web'), null, uri);
    }
  });

  test('native clients (RFC 8252): loopback IP over http, claimed https, reverse-domain private-use schemes', () => {
    for (const uri of [
      'http://127.0.0.1/callback',
      'http://[::1]:8080/callback',
      'https://app.example.com/cb',
      'com.example.app:/callback',
    ]) {
      assert.equal(redirectUriProblem(uri, 'native'), null, uri);
    }
    for (const uri of [
      'http://localhost/callback',
      'https://localhost/callback',
      'https://127.0.0.1/callback',
      'http://app.example.com/callback',
      'myapp:/callback',
    ]) {
      assert.notEqual(redirectUriProblem(uri, 'native'), null, uri);
    }
  });
});

describe('client policy', () => {
  const base: ClientDefinition = {
    client_id: 'app',
    application_type: 'web',
    redirect_uris: ['https://app.example.com/cb'],
    post_logout_redirect_uris: [],
    grant_types: ['authorization_code', 'refresh_token'],
    scope: 'openid',
    resources: [],
    trusted: false,
    require_par: false,
    require_dpop: false,
  };

  test('a well-formed client has no problems', () => {
    assert.deepEqual(clientProblems(base, false), []);
  });

  test('client credentials need a secret; codes need a redirect URI; refresh needs codes', () => {
    assert.match(
      clientProblems({ ...base, grant_types: ['client_credentials'] }, false).join(),
      /confidential/,
    );
    assert.match(clientProblems({ ...base, redirect_uris: [] }, true).join(), /redirect URI/);
    assert.match(
      clientProblems({ ...base, grant_types: ['refresh_token'] }, true).join(),
      /needs authorization_code/,
    );
    assert.deepEqual(
      clientProblems({ ...base, grant_types: ['client_credentials'], redirect_uris: [] }, true),
      [],
    );
  });

  test('a public native app cannot be trusted: its identity cannot be assured (ASVS V10.7.1)', () => {
    const native = {
      ...base,
      application_type: 'native' as const,
      redirect_uris: ['http://127.0.0.1/cb'],
      trusted: true,
    };
    assert.match(clientProblems(native, false).join(), /trusted/);
    assert.deepEqual(clientProblems(native, true), []);
  });

  test('ids and scopes are checked', () => {
    assert.match(clientProblems({ ...base, client_id: 'bad id' }, false).join(), /client_id/);
    assert.match(clientProblems({ ...base, scope: 'openid <script>' }, false).join(), /scope/);
  });
});
