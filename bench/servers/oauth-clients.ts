/** The clients both bench:oauth servers know, configured alike (Gatehouse and standalone oidc-provider). */
export const BENCH_API = 'https://api.bench.test';

export const BENCH_SERVICE = {
  client_id: 'bench-service',
  client_secret: 'bench-service-secret-0123456789-abcdefghij',
  grant_types: ['client_credentials'],
  scope: 'read',
  resources: [BENCH_API],
};

export const BENCH_APP = {
  client_id: 'bench-app',
  client_secret: 'bench-app-secret-0123456789-abcdefghijklmn',
  redirect_uris: ['https://app.bench.test/callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  scope: 'openid offline_access',
};

export function basicAuth(client: { client_id: string; client_secret: string }): string {
  return `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`;
}
