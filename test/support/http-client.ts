/**
 * A small cookie-keeping HTTP client for tests, speaking to a real Gatehouse over a socket.
 * It sends `Sec-Fetch-Site: same-origin` like a browser on our own pages would, unless a
 * test overrides headers.
 */
export interface TestResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export class TestClient {
  readonly baseUrl: string;
  readonly cookies = new Map<string, string>();
  userAgent =
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36';

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  get(path: string, headers: Record<string, string> = {}): Promise<TestResponse<any>> {
    return this.request('GET', path, undefined, headers);
  }

  post(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<TestResponse<any>> {
    return this.request('POST', path, body ?? {}, headers);
  }

  patch(path: string, body: unknown, headers: Record<string, string> = {}): Promise<TestResponse<any>> {
    return this.request('PATCH', path, body, headers);
  }

  delete(path: string, headers: Record<string, string> = {}): Promise<TestResponse<any>> {
    return this.request('DELETE', path, undefined, headers);
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<TestResponse<any>> {
    const init: RequestInit = {
      method,
      redirect: 'manual',
      headers: {
        'sec-fetch-site': 'same-origin',
        'user-agent': this.userAgent,
        ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
        ...(this.cookies.size ? { cookie: this.cookieHeader() } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    };
    const response = await fetch(new URL(path, this.baseUrl), init);
    for (const line of response.headers.getSetCookie()) this.#store(line);
    const text = await response.text();
    let parsed: unknown = text;
    if (response.headers.get('content-type')?.includes('application/json') && text) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  #store(setCookie: string): void {
    const [pair = '', ...attributes] = setCookie.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const maxAge = attributes.map((a) => a.trim().toLowerCase()).find((a) => a.startsWith('max-age='));
    if (value === '' || maxAge === 'max-age=0') this.cookies.delete(name);
    else this.cookies.set(name, value);
  }
}
