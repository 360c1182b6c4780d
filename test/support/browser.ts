import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';

/**
 * Real Chromium for browser tests: Debian's package, never a browser downloaded by a tool.
 * WebAuthn runs against CDP virtual authenticators (RECIPES.md "Passkeys in a real browser").
 */
export const CHROMIUM_PATH = process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium';

const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * For `describe(name, { skip: skipUnlessChromium() }, …)`: false when Chromium is there,
 * otherwise a message saying how to get it. With CI=true a missing browser throws instead,
 * so the suite fails rather than passing silently (DESIGN §6).
 */
export function skipUnlessChromium(): string | false {
  if (existsSync(CHROMIUM_PATH)) return false;
  const message = `browser tests need Chromium at ${CHROMIUM_PATH}: install it with \`apt-get install -y chromium\``;
  if (process.env.CI === 'true')
    throw new Error(`${message} (CI=true: a skipped browser suite is a failure)`);
  return message;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: LAUNCH_ARGS });
}

/** One WebAuthn call seen by the page, recorded by an init script before the browser ran it. */
export interface WebAuthnCall {
  kind: 'get' | 'create';
  /** `conditional` for autofill, null for the modal prompt. */
  mediation: string | null;
  phase: 'called' | 'resolved' | 'rejected';
  path: string;
  error?: string;
}

export interface VirtualAuthenticatorOptions {
  transport?: 'internal' | 'usb' | 'nfc' | 'ble' | 'hybrid';
}

export interface DeviceUnderTest {
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  /** The authenticator added first; `addAuthenticator` adds more. */
  authenticatorId: string;
  /** Every navigator.credentials.get/create the page made, in order. */
  webauthnCalls: WebAuthnCall[];
  addAuthenticator(options?: VirtualAuthenticatorOptions): Promise<string>;
  removeAuthenticator(id: string): Promise<void>;
  /** The credentials an authenticator holds. */
  credentials(
    authenticatorId?: string,
  ): Promise<Array<{ credentialId: string; isResidentCredential: boolean; rpId?: string }>>;
  /**
   * Makes the page believe conditional mediation is unavailable (from the next navigation on),
   * so a test can take the modal path even though a virtual authenticator would otherwise
   * answer a pending autofill request by itself.
   */
  setConditionalMediation(enabled: boolean): Promise<void>;
}

const NO_CONDITIONAL_KEY = 'gatehouse-test:no-conditional';

/** Runs in the page before its own scripts, on every navigation. */
function instrumentWebAuthn(noConditionalKey: string): void {
  const binding = (window as unknown as { __gatehouseWebAuthn?: (call: unknown) => void })
    .__gatehouseWebAuthn;
  const record = (call: unknown): void => {
    try {
      void binding?.(call);
    } catch {
      // Recording must never break the page.
    }
  };
  const credentials = navigator.credentials;
  if (credentials) {
    for (const kind of ['get', 'create'] as const) {
      const original = credentials[kind].bind(credentials);
      credentials[kind] = (options?: CredentialRequestOptions & CredentialCreationOptions) => {
        const call = { kind, mediation: options?.mediation ?? null, path: location.pathname };
        record({ ...call, phase: 'called' });
        return original(options).then(
          (result) => {
            record({ ...call, phase: 'resolved' });
            return result;
          },
          (error: unknown) => {
            record({
              ...call,
              phase: 'rejected',
              error: error instanceof Error ? error.name : String(error),
            });
            throw error;
          },
        );
      };
    }
  }
  if (sessionStorage.getItem(noConditionalKey) === '1' && 'PublicKeyCredential' in window) {
    PublicKeyCredential.isConditionalMediationAvailable = async () => false;
  }
}

/**
 * A fresh browser context (its own cookies: one "device") with one page and a CTAP2 platform
 * authenticator that holds discoverable credentials, verifies the user and answers every
 * prompt by itself (automaticPresenceSimulation).
 */
export async function newContextWithAuthenticator(
  browser: Browser,
  options: VirtualAuthenticatorOptions = {},
): Promise<DeviceUnderTest> {
  const context = await browser.newContext();
  // Fail in seconds, not Playwright's 30: every step here is local.
  context.setDefaultTimeout(10_000);
  const webauthnCalls: WebAuthnCall[] = [];
  await context.exposeBinding('__gatehouseWebAuthn', (_source, call: WebAuthnCall) => {
    webauthnCalls.push(call);
  });
  await context.addInitScript(instrumentWebAuthn, NO_CONDITIONAL_KEY);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const addAuthenticator = async (extra: VirtualAuthenticatorOptions = {}): Promise<string> => {
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: extra.transport ?? 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return authenticatorId;
  };
  const authenticatorId = await addAuthenticator(options);
  return {
    context,
    page,
    cdp,
    authenticatorId,
    webauthnCalls,
    addAuthenticator,
    async removeAuthenticator(id) {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: id });
    },
    async credentials(id = authenticatorId) {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: id });
      return credentials;
    },
    async setConditionalMediation(enabled) {
      await page.evaluate(
        ([key, on]) => (on ? sessionStorage.removeItem(key) : sessionStorage.setItem(key, '1')),
        [NO_CONDITIONAL_KEY, enabled] as const,
      );
    },
  };
}
