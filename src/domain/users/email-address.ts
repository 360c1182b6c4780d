import { domainToASCII } from 'node:url';
import { AppError } from '../../errors/app-error.ts';

// One address, no display name, no list, no whitespace or control characters (which would
// allow header injection in mail). Local part kept as typed: RFC 5321 §2.4 makes it
// case-sensitive, and folding it could merge two people's accounts.
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$/;
const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Validates and normalises an address (domain lower-cased and IDNA-encoded); throws 400. */
export function normalizeEmail(input: string): string {
  const invalid = () =>
    new AppError('validation_failed', 'Enter a valid email address, such as name@example.com.');
  const trimmed = input.trim();
  if (trimmed.length > 254) throw invalid();
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || at === trimmed.length - 1) throw invalid();
  const local = trimmed.slice(0, at);
  const domainInput = trimmed.slice(at + 1);
  if (!LOCAL_PART.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..'))
    throw invalid();
  const domain = domainToASCII(domainInput.toLowerCase());
  if (!domain || domain.length > 253) throw invalid();
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => DOMAIN_LABEL.test(label))) throw invalid();
  return `${local}@${domain}`;
}
