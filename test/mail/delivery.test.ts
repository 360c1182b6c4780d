import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signInMessage } from '../../src/domain/mail/templates.ts';
import { TestClient } from '../support/http-client.ts';
import { startGatehouse, type TestServer } from '../support/server.ts';
import { decodeQuotedPrintable, startSmtpServer, type TestSmtpServer } from '../support/smtp.ts';

describe('mail through a real SMTP server', () => {
  let smtp: TestSmtpServer;
  let server: TestServer;
  before(async () => {
    smtp = await startSmtpServer();
    server = await startGatehouse({ smtpUrl: smtp.url, mailFrom: 'Gatehouse <auth@example.com>' });
  });
  after(async () => {
    await server.close();
    await smtp.close();
  });

  test('continue with email delivers a link and a code that sign in', async () => {
    const client = new TestClient(server.url);
    const arriving = smtp.waitFor('smtp-user@example.com');
    assert.equal(
      (await client.post('/api/v1/email/sign-in', { email: 'smtp-user@example.com' })).status,
      202,
    );
    const mail = await arriving;
    assert.equal(mail.from, 'auth@example.com');
    const body = decodeQuotedPrintable(mail.raw);
    assert.match(body, /Content-Type: text\/plain/i);
    assert.match(body, /Content-Type: text\/html/i);
    const token = /\/email\/verify#token=([\w-]{43})/.exec(body)?.[1];
    const code = /enter this code[^\d]*(\d{6})/i.exec(body)?.[1];
    assert.ok(token && code);
    const verified = await client.post('/api/v1/email/verify', { email: 'smtp-user@example.com', code });
    assert.equal(verified.status, 200, verified.text);
    assert.equal(verified.body.user.email, 'smtp-user@example.com');
  });

  test('no development mailbox when SMTP is configured', async () => {
    const response = await new TestClient(server.url).get('/dev/mailbox/messages');
    assert.equal(response.status, 404);
  });

  test('a failed delivery does not fail the request; the queue retries and records the failure', async () => {
    smtp.failNext(2);
    const client = new TestClient(server.url);
    const arriving = smtp.waitFor('retry@example.com', 10_000);
    const started = performance.now();
    const response = await client.post('/api/v1/email/sign-in', { email: 'retry@example.com' });
    assert.equal(response.status, 202);
    assert.ok(performance.now() - started < 1000, 'the request did not wait for delivery');
    const mail = await arriving;
    assert.deepEqual(mail.to, ['retry@example.com']);
    // The SMTP server has the message a moment before the worker records it as sent.
    let retried:
      | { attempts: number; status: string; sealed: string | null; last_error: string | null }
      | undefined;
    for (let i = 0; i < 100 && retried?.status !== 'sent'; i++) {
      const rows = await server.services.database.db.selectFrom('mail_outbox').selectAll().execute();
      retried = rows.find((row) => row.attempts === 2);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(retried, 'two failed attempts recorded');
    assert.equal(retried.status, 'sent');
    assert.equal(retried.sealed, null, 'the body is erased once sent');
  });
});

describe('mail templates', () => {
  test('everything interpolated into HTML is escaped', () => {
    const message = signInMessage(
      { appName: '<script>alert(1)</script>' },
      { to: 'a@example.com', link: 'https://x.example/"><img src=x>', code: '123456', ttlMinutes: 15 },
    );
    assert.ok(!message.html.includes('<script>alert(1)</script>'));
    assert.ok(!message.html.includes('"><img'));
    assert.match(message.html, /&lt;script&gt;/);
    assert.match(message.text, /123456/);
  });
});
