import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { EXIT_CHAIN_BROKEN } from '../../src/cli/audit.ts';
import { runCli } from '../support/cli.ts';
import { TestClient } from '../support/http-client.ts';
import { startGatehouse, type TestServer } from '../support/server.ts';
import { signInWithEmail } from '../support/sign-in.ts';

describe('gatehouse audit verify / export', () => {
  let server: TestServer;
  let aliceId: string;

  /**
   * The CLI against the server's own database and secret, as an operator would run it; awaited
   * without blocking, so the server (this process) finishes any write it has under way instead
   * of holding SQLite's write lock while the CLI waits for it.
   */
  function cli(args: string[], env: Record<string, string> = {}) {
    return runCli(['audit', ...args], {
      GATEHOUSE_DATA_DIR: server.services.config.dataDir,
      GATEHOUSE_SECRET: server.services.config.secret,
      GATEHOUSE_LOG_LEVEL: 'silent',
      ...env,
    });
  }

  async function exported(args: string[] = []) {
    const result = await cli(['export', ...args]);
    assert.equal(result.status, 0, result.stderr);
    return result.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  }

  before(async () => {
    server = await startGatehouse();
    aliceId = await signInWithEmail(server, new TestClient(server.url), 'alice@example.com');
    await signInWithEmail(server, new TestClient(server.url), 'bob@example.com');
    // A line separator survives storage (it is not a control character); exports escape it.
    await server.services.audit.record(
      { ip: null, userAgent: 'Bob\u2028Browser', requestId: null },
      { type: 'redirect.refused', outcome: 'failure', details: { target: 'https://evil.example\u2029' } },
    );
  });
  after(() => server.close());

  test('verify: an intact chain exits 0 and prints its head', async () => {
    const result = await cli(['verify']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /audit chain intact: \d+ event\(s\) verified/);
    assert.match(result.stdout, /head: seq \d+ [0-9a-f]{64}/);
    const report = JSON.parse((await cli(['verify', '--json'])).stdout);
    assert.equal(report.ok, true);
    assert.ok(report.verified >= 6);
  });

  test('verify under another instance secret fails at the first event: the chain is keyed', async () => {
    const result = await cli(['verify'], { GATEHOUSE_SECRET: 'another-secret-0123456789abcdefghijklmnop' });
    assert.equal(result.status, EXIT_CHAIN_BROKEN);
    assert.match(result.stdout, /BROKEN at seq \d+ .*\[hash_mismatch\]/);
  });

  test('export: JSON lines, oldest first, with every field, filtered by type, user and time', async () => {
    const all = await exported();
    assert.ok(all.length >= 6);
    assert.deepEqual(
      all.map((e) => e.seq),
      [...all.map((e) => e.seq)].sort((a, b) => a - b),
    );
    for (const event of all) {
      assert.equal(event.time, new Date(event.at).toISOString());
      assert.equal(typeof event.details, 'object');
      assert.match(event.hash, /^[0-9a-f]{64}$/);
    }
    const links = await exported(['--type', 'sign_in.email_link']);
    assert.equal(links.length, 2);
    assert.ok(links.every((e) => e.type === 'sign_in.email_link'));
    const alices = await exported(['--user', aliceId]);
    assert.ok(alices.length > 0 && alices.every((e) => e.userId === aliceId));
    const last = all[all.length - 1];
    assert.deepEqual(
      (await exported(['--since', last.time])).map((e) => e.id),
      [last.id],
    );
    assert.deepEqual(await exported(['--until', String(all[0].at)]), []);
  });

  test('export escapes line separators, so one event is always one line', async () => {
    const raw = (await cli(['export', '--type', 'redirect.refused'])).stdout;
    assert.ok(!/[\u2028\u2029]/.test(raw));
    assert.match(raw, /Bob\\u2028Browser/);
    assert.equal(raw.trim().split(/\r?\n|[\u2028\u2029\u0085]/).length, 1);
    const [event] = await exported(['--type', 'redirect.refused']);
    assert.equal(event.userAgent, 'Bob\u2028Browser', 'JSON readers get the text back unchanged');
    assert.equal(event.details.target, 'https://evil.example\u2029');
  });

  test('bad arguments exit 2 with the usage', async () => {
    for (const args of [
      ['export', '--since', 'last tuesday'],
      ['export', '--type', 'no.such.event'],
      ['export', '--frobnicate'],
      ['verify', 'extra'],
      ['rewrite'],
      [],
    ]) {
      const result = await cli(args);
      assert.equal(result.status, 2, args.join(' '));
      assert.match(result.stderr, /Usage:/);
    }
  });

  // Last: it leaves the log broken.
  test('verify names the first tampered event and exits non-zero', async () => {
    const { db } = server.services.database;
    const rows = await db.selectFrom('audit_events').select(['seq', 'id']).orderBy('seq').execute();
    const target = rows[3]!;
    // What someone covering their tracks might do: change where an event came from.
    await db.updateTable('audit_events').set({ ip: '198.51.100.66' }).where('seq', '=', target.seq).execute();
    const result = await cli(['verify']);
    assert.equal(result.status, EXIT_CHAIN_BROKEN);
    assert.match(result.stdout, new RegExp(`BROKEN at seq ${target.seq} \\(event ${target.id}\\)`));
    assert.match(result.stdout, /modified after it was written \[hash_mismatch\]/);
    assert.match(result.stdout, /3 event\(s\) verified before it/);
  });
});
