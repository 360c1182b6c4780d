import { z } from 'zod';
import { pbkdf2Hash } from './pbkdf2-hashes.ts';

/**
 * A password credential as a Keycloak realm export holds it (`users[].credentials[]` with
 * `type: "password"`): two JSON documents in strings, the hash and salt in `secretData`, the
 * algorithm and its parameters in `credentialData`. Turned into a hash string Gatehouse checks
 * (PHC for argon2, pbkdf2-hashes.ts for PBKDF2); Keycloak's own formats are never stored.
 */
export const keycloakCredentialSchema = z
  .object({ secretData: z.string().max(4096), credentialData: z.string().max(4096) })
  .describe('A `credentials[]` entry of type password from a Keycloak realm export.');

const secretData = z.object({ value: z.base64(), salt: z.base64() });

/** Keycloak writes each extra parameter as a list of one string. */
const oneNumber = z.tuple([z.string().regex(/^\d{1,9}$/)]).transform(([value]) => Number(value));

const credentialData = z.discriminatedUnion('algorithm', [
  z.object({
    algorithm: z.enum(['pbkdf2', 'pbkdf2-sha256', 'pbkdf2-sha512']),
    hashIterations: z.number().int().positive(),
  }),
  z.object({
    algorithm: z.literal('argon2'),
    hashIterations: z.number().int().positive(),
    additionalParameters: z.object({
      type: z.tuple([z.enum(['id', 'i', 'd'])]),
      version: z.tuple([z.enum(['1.3', '1.0'])]),
      memory: oneNumber,
      parallelism: oneNumber,
    }),
  }),
]);

/** PHC strings carry base64 without padding. */
const phcBase64 = (base64: string): string => base64.replace(/=+$/, '');

/** The hash string for a Keycloak password credential, or why it cannot be read. */
export function keycloakPasswordHash(
  credential: z.infer<typeof keycloakCredentialSchema>,
): { hash: string } | { problem: string } {
  let secret: z.infer<typeof secretData>;
  let data: z.infer<typeof credentialData>;
  try {
    secret = secretData.parse(JSON.parse(credential.secretData));
    data = credentialData.parse(JSON.parse(credential.credentialData));
  } catch {
    return {
      problem:
        'is not a Keycloak password credential this import reads (pbkdf2, pbkdf2-sha256, pbkdf2-sha512 or argon2)',
    };
  }
  if (data.algorithm === 'argon2') {
    const { type, version, memory, parallelism } = data.additionalParameters;
    const v = version[0] === '1.3' ? 19 : 16;
    return {
      hash: `$argon2${type[0]}$v=${v}$m=${memory},t=${data.hashIterations},p=${parallelism}$${phcBase64(secret.salt)}$${phcBase64(secret.value)}`,
    };
  }
  const digest =
    data.algorithm === 'pbkdf2' ? 'sha1' : data.algorithm === 'pbkdf2-sha256' ? 'sha256' : 'sha512';
  return {
    hash: pbkdf2Hash(
      digest,
      data.hashIterations,
      Buffer.from(secret.salt, 'base64'),
      Buffer.from(secret.value, 'base64'),
    ),
  };
}
