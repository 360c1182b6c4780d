import { ApiError } from './api.ts';
import { busy, messages } from './dom.ts';
import { reportError } from './report.ts';

/**
 * An API error in words: its `message`, plus each field problem of a `validation_failed`, so an
 * administrator sees which rule a new client breaks rather than "some fields are invalid".
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const issues = error instanceof ApiError ? error.details['issues'] : undefined;
  if (!Array.isArray(issues)) return error.message;
  const problems = issues.flatMap((issue: { path?: unknown; message?: unknown }) => {
    if (typeof issue?.message !== 'string') return [];
    return [typeof issue.path === 'string' && issue.path ? `${issue.path}: ${issue.message}` : issue.message];
  });
  return problems.length ? `${error.message} ${problems.join('; ')}` : error.message;
}

export function report(error: unknown): void {
  reportError(error, '/admin', describeError);
}

/**
 * Runs one action the administrator asked for: earlier messages cleared, the button busy,
 * a failure reported. Undefined when it failed.
 */
export async function run<T>(
  button: HTMLButtonElement | null,
  label: string | null,
  action: () => Promise<T>,
): Promise<T | undefined> {
  messages.clear();
  try {
    return await busy(button, label, action);
  } catch (error) {
    report(error);
    return undefined;
  }
}
