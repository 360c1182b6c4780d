import type { Page } from 'playwright-core';
import { readSignInMail, type TestServer } from './server.ts';
import { newSignInMail } from './sign-in.ts';

/**
 * Signs a browser page in through the hosted sign-in page and the mailed link (from the
 * development mailbox), declines the passkey offer, and waits for the account page.
 */
export async function signInByLink(page: Page, server: TestServer, email: string): Promise<void> {
  const before = (await server.services.stores.devMailbox.list({ to: email, limit: 1 }))[0]?.id;
  await page.goto(`${server.url}/sign-in`);
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Continue with email' }).click();
  await page.getByRole('heading', { name: 'Check your email' }).waitFor();
  await page.goto(readSignInMail(await newSignInMail(server, email, before)).link);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('button', { name: 'Not now' }).click();
  await page.waitForURL(`${server.url}/account`);
}
