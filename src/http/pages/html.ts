import { escapeHtml } from '../../domain/mail/html.ts';

/**
 * Markup that is already safe: produced by the `html` tag below (which escaped every value it
 * was given) or by a caller that escaped it. Plain strings are never trusted.
 */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

export type Interpolation =
  | SafeHtml
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * Tagged template for page markup: every interpolated value is HTML-escaped unless it is
 * SafeHtml, so a user's display name or passkey name cannot inject markup (stored XSS). Values
 * go only into element content or double-quoted attributes, where escapeHtml is sufficient;
 * URLs in href come from our own routes or are checked to be http(s) first.
 */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Marks a string as safe markup. Only for text that was escaped or is a constant. */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
