/**
 * Gatehouse as a cluster: two nodes, each in its own Node process, on one fresh PostgreSQL
 * database and one Redis (DESIGN §3: production runs any number of stateless nodes). Same
 * code path as servers/gatehouse.ts for `GET /api/v1/session`: every middleware, logging
 * `silent`, the session issued through the domain service.
 *
 * This process is node A. It creates the database (`gatehouse_bench_<random>`, dropped at
 * shutdown), starts node B (this file again, with BENCH_CLUSTER_NODE set) and announces
 * node A's port, node B's as a peer, the measured cookie, and spare sessions the driver
 * revokes on A and then presents to B to time revocation across nodes.
 *
 * Settings: BENCH_POSTGRES_URL (an admin connection that may CREATE DATABASE; default
 * postgres://postgres@127.0.0.1:5432/postgres), BENCH_REDIS_URL (default redis://127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../../src/config/load.ts';
import { createGatehouse, type Gatehouse } from '../../src/container.ts';
import { SESSION_COOKIE } from '../../src/http/cookies.ts';
import { freePort } from '../../test/support/server.ts';
import { type RunningServer, startServer } from '../lib/child.ts';
import { announceReady } from '../lib/ready.ts';

/** How many sessions the driver revokes to time propagation. */
const SPARE_SESSIONS = 50;

interface NodeSettings {
  databaseUrl: string;
  redisUrl: string;
  secret: string;
}

const adminUrl = process.env['BENCH_POSTGRES_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env['BENCH_REDIS_URL'] || 'redis://127.0.0.1:6379';

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** One node; the port is picked before the config names it, so a lost race is retried. */
async function startNode(
  settings: NodeSettings,
  dataDir: string,
): Promise<{ gatehouse: Gatehouse; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = loadConfig(
      {},
      {
        ...settings,
        dataDir,
        host: '127.0.0.1',
        port,
        logLevel: 'silent',
        origin: `http://localhost:${port}`,
      },
    );
    const gatehouse = await createGatehouse(config);
    try {
      await gatehouse.listen();
      return { gatehouse, port };
    } catch (error) {
      await gatehouse.close();
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw error;
    }
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
const nodeB = process.env['BENCH_CLUSTER_NODE'];

if (nodeB) {
  const { gatehouse, port } = await startNode(JSON.parse(nodeB) as NodeSettings, dataDir);
  announceReady({ port }, async () => {
    await gatehouse.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
} else {
  // The name is ours (hex only), so interpolating it into DDL is safe.
  const name = `gatehouse_bench_${randomBytes(6).toString('hex')}`;
  await admin(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const settings: NodeSettings = {
    databaseUrl: url.toString(),
    redisUrl,
    // Shared, as every node of a cluster shares GATEHOUSE_SECRET (the audit chain's key).
    secret: randomBytes(32).toString('base64url'),
  };
  let peer: RunningServer | undefined;
  let node: Awaited<ReturnType<typeof startNode>> | undefined;
  const shutdown = async (): Promise<void> => {
    await peer?.stop();
    await node?.gatehouse.close();
    await admin(`drop database if exists ${name} with (force)`);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // Node A first: it applies the migrations; B then finds the schema current.
    node = await startNode(settings, dataDir);
    process.env['BENCH_CLUSTER_NODE'] = JSON.stringify(settings);
    peer = await startServer('gatehouse-postgres B', fileURLToPath(import.meta.url));
    const { services } = node.gatehouse;
    const { user } = await services.users.signInByVerifiedEmail('bench@example.com');
    const context = { ip: '127.0.0.1', userAgent: 'bench', requestId: null };
    const cookieOf = async () =>
      `${SESSION_COOKIE}=${(await services.sessions.issue(user.id, ['otp'], context)).token}`;
    const cookie = await cookieOf();
    const spareCookies: string[] = [];
    for (let i = 0; i < SPARE_SESSIONS; i++) spareCookies.push(await cookieOf());
    announceReady({ port: node.port, cookie, peerPorts: [peer.port], spareCookies }, shutdown);
  } catch (error) {
    await shutdown().catch(() => {});
    throw error;
  }
}
