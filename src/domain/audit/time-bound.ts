const EPOCH_MS = /^\d{1,15}$/;
// A full date-time with an explicit zone: a bound without one would mean a different instant
// on every machine that reads it.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A time bound for audit filters: epoch milliseconds, an ISO 8601 date-time with a zone, or a
 * date (midnight UTC). Undefined when the text is none of those.
 */
export function parseTimeBound(text: string): number | undefined {
  if (EPOCH_MS.test(text)) return Number(text);
  if (!ISO_DATE_TIME.test(text) && !ISO_DATE.test(text)) return undefined;
  const at = Date.parse(ISO_DATE.test(text) ? `${text}T00:00:00Z` : text);
  return Number.isNaN(at) ? undefined : at;
}
