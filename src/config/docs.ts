import { z } from 'zod';
import { configSchema } from './schema.ts';

interface Row {
  key: string;
  variable: string;
  type: string;
  defaultValue: string;
  description: string;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  for (;;) {
    if (
      current instanceof z.ZodDefault ||
      current instanceof z.ZodOptional ||
      current instanceof z.ZodPrefault
    ) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.out as z.ZodType;
    } else {
      return current;
    }
  }
}

function typeName(schema: z.ZodType): string {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodEnum) return inner.options.map((o) => `\`${String(o)}\``).join(' \\| ');
  if (inner instanceof z.ZodArray) {
    const element = unwrap(inner.element as z.ZodType);
    if (element instanceof z.ZodObject) return 'list of objects (fields below)';
    if (element instanceof z.ZodRecord) return 'list of objects';
    return element instanceof z.ZodURL ? 'list of URLs' : 'list of strings';
  }
  if (inner instanceof z.ZodNumber) return 'integer';
  if (inner instanceof z.ZodBoolean) return 'boolean';
  if (inner instanceof z.ZodURL) return 'URL';
  return 'string';
}

function defaultOf(schema: z.ZodType): string {
  if (schema instanceof z.ZodDefault) {
    const value: unknown = schema.def.defaultValue;
    return `\`${JSON.stringify(value)}\``;
  }
  return 'unset';
}

function rows(shape: Record<string, z.ZodType>, prefix: string): Row[] {
  const out: Row[] = [];
  for (const [name, field] of Object.entries(shape)) {
    const key = prefix ? `${prefix}.${name}` : name;
    const inner = unwrap(field);
    const meta = (z.globalRegistry.get(field) ?? {}) as { env?: string; description?: string };
    if (inner instanceof z.ZodObject) {
      // A described object (a client's `jwks`) keeps its meaning in a row of its own.
      const description = field.description ?? meta.description;
      if (description)
        out.push({
          key,
          variable: '—',
          type: 'object',
          defaultValue: '—',
          description: description.replace(/\|/g, '\\|'),
        });
      out.push(...rows(inner.shape as Record<string, z.ZodType>, key));
      continue;
    }
    // A list of objects (federation providers): one row for the list, then one per field.
    const element = inner instanceof z.ZodArray ? unwrap(inner.element as z.ZodType) : null;
    const fields = element instanceof z.ZodObject ? (element.shape as Record<string, z.ZodType>) : null;
    out.push({
      key,
      variable: meta.env ? `\`${meta.env}\`` : '—',
      type: typeName(field),
      defaultValue: defaultOf(field),
      description: (field.description ?? meta.description ?? '').replace(/\|/g, '\\|'),
    });
    if (fields) out.push(...rows(fields, `${key}[]`));
  }
  return out;
}

/** docs/configuration.md, generated from the schema so the two cannot drift. */
export function renderConfigDocs(): string {
  const table = rows(configSchema.shape as Record<string, z.ZodType>, '')
    .map((r) => `| \`${r.key}\` | ${r.variable} | ${r.type} | ${r.defaultValue} | ${r.description} |`)
    .join('\n');
  return `<!-- Generated from src/config/schema.ts by \`npm run docs:config\`. Do not edit by hand. -->
# Configuration

Gatehouse reads one typed configuration, lowest precedence first:

1. the defaults below (safe for development);
2. a JSON file named by \`GATEHOUSE_CONFIG\` (any key below; nested keys as nested objects,
   e.g. \`{"session": {"idleTimeoutMs": 86400000}}\`);
3. \`GATEHOUSE_*\` environment variables (the top-level keys that have one).

An unknown key or an invalid value stops the start with a message naming the key.
\`GATEHOUSE_ENV=production\` refuses to start with an \`http://\` origin, a generated secret or the
development mailbox. Durations are in milliseconds.

| key | variable | type | default | meaning |
| --- | --- | --- | --- | --- |
${table}
`;
}
