/**
 * Typed errors with stable codes. `message` is safe to show to the caller; `detail` is only
 * logged. Failures that would help an attacker (which check failed, whether an account
 * exists) share one code and one message.
 */
export type ErrorCode =
  | 'bad_request'
  | 'validation_failed'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'unauthenticated'
  | 'forbidden'
  | 'cross_origin_refused'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'invalid_or_expired'
  | 'invalid_code'
  | 'passkey_verification_failed'
  | 'last_sign_in_method'
  | 'sign_up_closed'
  | 'redirect_refused'
  | 'rate_limited'
  | 'mfa_required'
  | 'step_up_required'
  | 'second_factor_required'
  | 'invalid_credentials'
  | 'weak_password'
  | 'totp_already_enrolled'
  | 'email_taken'
  | 'no_password'
  | 'account_disabled'
  | 'unavailable'
  | 'internal_error';

const statusByCode: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  unauthenticated: 401,
  forbidden: 403,
  cross_origin_refused: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  invalid_or_expired: 400,
  invalid_code: 400,
  passkey_verification_failed: 400,
  last_sign_in_method: 409,
  sign_up_closed: 403,
  redirect_refused: 400,
  rate_limited: 429,
  mfa_required: 401,
  step_up_required: 403,
  second_factor_required: 401,
  invalid_credentials: 401,
  weak_password: 400,
  totp_already_enrolled: 409,
  email_taken: 409,
  no_password: 409,
  account_disabled: 403,
  unavailable: 503,
  internal_error: 500,
};

export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly status: number;
  /** Logged, never sent. */
  readonly detail: string | undefined;
  /** Extra public fields (for example the validation issues). */
  readonly extra: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { detail?: string; extra?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.code = code;
    this.status = statusByCode[code];
    this.detail = options.detail;
    this.extra = options.extra;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
