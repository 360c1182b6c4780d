/**
 * Which re-authentications the step-up prompt offers, read from the 403 `step_up_required`
 * answer (src/http/step-up.ts): `methods` are the ways this user has (a passkey, a password,
 * the mailbox), `factors` the amr values the new session must carry, `secondFactor` whether an
 * authenticator code can be added. A way that cannot reach every factor is not offered: a
 * password alone can never give "mfa", so asking for it would only end in a refusal.
 * No DOM here, so the rule is unit-tested beside it.
 */

export type StepUpMethod = 'passkey' | 'password' | 'email';

export interface StepUpRequirement {
  methods: StepUpMethod[];
  factors: string[];
  /** 'totp' when the user has an authenticator app: its code can join a one-factor method. */
  secondFactor: 'totp' | null;
}

/**
 * RFC 8176 amr each way proves by itself (as the server records it). A passkey is counted with
 * user verification, which the server asks for by default; where it does not, the server
 * answers `second_factor_required` and the prompt asks for the authenticator code too.
 */
const PROVES: Record<StepUpMethod, readonly string[]> = {
  passkey: ['pop', 'user', 'mfa'],
  password: ['pwd'],
  email: ['otp'],
};

/** What an authenticator code adds to a one-factor proof. */
const WITH_SECOND_FACTOR = ['otp', 'mfa'];

const KNOWN: readonly string[] = ['passkey', 'password', 'email'];

/** The 403's details, read defensively: an older server may leave fields out. */
export function readRequirement(details: Record<string, unknown>): StepUpRequirement {
  const list = (value: unknown): string[] =>
    Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  const methods = list(details['methods']).filter((m): m is StepUpMethod => KNOWN.includes(m));
  return {
    // Before `methods` existed every user could take an emailed code.
    methods: Array.isArray(details['methods']) ? methods : ['email'],
    factors: list(details['factors']),
    secondFactor: details['secondFactor'] === 'totp' ? 'totp' : null,
  };
}

/** The ways to offer, in the order shown: a passkey first (phishing-resistant), then the rest. */
export function offeredMethods(requirement: StepUpRequirement, webauthn: boolean): StepUpMethod[] {
  const order: StepUpMethod[] = ['passkey', 'password', 'email'];
  return order.filter((method) => {
    if (!requirement.methods.includes(method)) return false;
    if (method === 'passkey' && !webauthn) return false;
    const proves = new Set(PROVES[method]);
    if (requirement.secondFactor === 'totp') for (const amr of WITH_SECOND_FACTOR) proves.add(amr);
    return requirement.factors.every((factor) => proves.has(factor));
  });
}
