import { z } from 'zod';

/**
 * Cursor pagination over the audit log, newest first. The cursor is the position (seq) of the
 * last event of the previous page: stable while new events arrive, unlike an offset.
 */
export const cursorSchema = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a cursor returned by a previous page')
  .transform(Number)
  .optional()
  .describe('`nextCursor` of the previous page');

export const pageLimit = (max: number, fallback: number) =>
  z.coerce.number().int().min(1).max(max).default(fallback).describe(`page size, 1–${max}`);

/** Reads one more than the page holds, to know whether another page follows. */
export async function readPage<T extends { seq: number }>(
  limit: number,
  read: (limit: number) => Promise<T[]>,
): Promise<{ items: T[]; nextCursor: string | null }> {
  const rows = await read(limit + 1);
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]!.seq) : null };
}
