import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { oauthConfigWarnings } from './oauth-schema.ts';
import { type Config, configSchema, type ParsedConfig } from './schema.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Environment variable → top-level key, read from the schema's `meta({ env })`. */
export function envVariables(): Array<{ key: string; variable: string }> {
  const out: Array<{ key: string; variable: string }> = [];
  for (const [key, field] of Object.entries(configSchema.shape)) {
    const meta = z.globalRegistry.get(field) as { env?: string } | undefined;
    if (meta?.env) out.push({ key, variable: meta.env });
  }
  return out;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ConfigError(`config file ${path} must hold a JSON object`);
    }
    return value as Record<string, unknown>;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function coerceEnv(key: string, raw: string): unknown {
  if (key === 'migrateOnStart') return raw === 'true' || raw === '1';
  return raw;
}

/**
 * Builds the configuration from (lowest to highest precedence) defaults, the JSON file named
 * by GATEHOUSE_CONFIG, GATEHOUSE_* variables and `overrides` (used by tests and library mode).
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Record<string, unknown> = {},
): Config {
  const input: Record<string, unknown> = env.GATEHOUSE_CONFIG ? readConfigFile(env.GATEHOUSE_CONFIG) : {};
  for (const { key, variable } of envVariables()) {
    const raw = env[variable];
    if (raw !== undefined && raw !== '') input[key] = coerceEnv(key, raw);
  }
  Object.assign(input, overrides);
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return resolveConfig(parsed.data);
}

function resolveConfig(parsed: ParsedConfig): Config {
  const origin = new URL(parsed.origin);
  if (origin.pathname !== '/' || origin.search || origin.hash) {
    throw new ConfigError('origin must be a bare origin such as https://auth.example.com (no path)');
  }
  const { secret, source } = resolveSecret(parsed);
  const config: Config = {
    ...parsed,
    origin: origin.origin,
    secret,
    secretSource: source,
    rpId: origin.hostname,
    secureOrigin: origin.protocol === 'https:',
    migrateOnStart: parsed.migrateOnStart ?? parsed.env !== 'production',
  };
  if (config.env === 'production') refuseUnsafeProduction(config);
  return config;
}

function resolveSecret(parsed: ParsedConfig): { secret: string; source: Config['secretSource'] } {
  if (parsed.secret) return { secret: parsed.secret, source: 'configured' };
  if (parsed.env === 'production') {
    throw new ConfigError('GATEHOUSE_SECRET is required in production (at least 32 random characters)');
  }
  // Development convenience: one secret per data folder, kept so sessions survive restarts.
  const file = join(parsed.dataDir, 'secret');
  if (existsSync(file)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length >= 32) return { secret: stored, source: 'generated' };
  }
  mkdirSync(parsed.dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return { secret, source: 'generated' };
}

function refuseUnsafeProduction(config: Config): void {
  const problems: string[] = [];
  if (!config.secureOrigin) problems.push('origin must be https://');
  if (config.secretSource !== 'configured') problems.push('GATEHOUSE_SECRET must be set');
  if (!config.smtpUrl)
    problems.push('GATEHOUSE_SMTP_URL must be set (the development mailbox is off in production)');
  if (problems.length > 0) {
    throw new ConfigError(`refusing to start in production:\n  ${problems.join('\n  ')}`);
  }
}

/** Loud warnings for settings that are fine for development but not for real users. */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.secretSource === 'generated') {
    warnings.push(
      `using a generated instance secret kept in ${join(config.dataDir, 'secret')}; production must set GATEHOUSE_SECRET`,
    );
  }
  if (!config.smtpUrl)
    warnings.push('no GATEHOUSE_SMTP_URL: mail goes to the development mailbox at /dev/mailbox');
  if (config.passkeys.userVerification !== 'required') {
    warnings.push('passkeys.userVerification is not "required": a passkey alone is no longer two factors');
  }
  warnings.push(...oauthConfigWarnings(config.oauth));
  return warnings;
}
