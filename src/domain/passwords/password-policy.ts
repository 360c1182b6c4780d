import { AppError } from '../../errors/app-error.ts';

/**
 * What a new password must satisfy (NIST SP 800-63B §3.1.1.2, OWASP ASVS 5.0 V6.2): a minimum
 * length (8 by default), long passphrases allowed, no composition rules, and not a password
 * attackers try first: one from the common-passwords list, or one made mostly of words an
 * attacker would guess for this site and this person (the product name, the address).
 */
export type PasswordProblem = 'too_short' | 'too_long' | 'common' | 'context';

const MESSAGES: Record<PasswordProblem, (min: number, max: number) => string> = {
  too_short: (min) => `Use at least ${min} characters. A few words in a row make a good password.`,
  too_long: (_min, max) => `Use at most ${max} characters.`,
  common: () => 'That password is one of the most common ones, which attackers try first. Choose another.',
  context: () => 'That password is too close to the site name or your email address. Choose another.',
};

/** Context words shorter than this are too common inside ordinary words to refuse on. */
const MIN_CONTEXT_WORD = 3;

let commonList: Promise<ReadonlySet<string>> | undefined;

/**
 * 49,000 common passwords (@zxcvbn-ts/language-common, MIT), loaded on first use so an
 * instance with passwords off never pays for the list.
 */
function commonPasswords(): Promise<ReadonlySet<string>> {
  commonList ??= import('@zxcvbn-ts/language-common').then(
    ({ dictionary }) => new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase())),
  );
  return commonList;
}

export class PasswordPolicy {
  readonly #minLength: number;
  readonly #maxLength: number;
  readonly #appName: string;

  constructor(options: { minLength: number; maxLength: number; appName: string }) {
    this.#minLength = options.minLength;
    this.#maxLength = options.maxLength;
    this.#appName = options.appName;
  }

  /** The first problem with `password` for the account at `email`, or null. */
  async problem(password: string, email: string): Promise<PasswordProblem | null> {
    // Length in code points: an emoji or a CJK character is one character to the person typing.
    const length = [...password].length;
    if (length < this.#minLength) return 'too_short';
    if (length > this.#maxLength) return 'too_long';
    const common = await commonPasswords();
    const lowered = password.toLowerCase();
    if (common.has(lowered)) return 'common';
    let rest = lowered;
    for (const word of this.#contextWords(email)) rest = rest.split(word).join('');
    // Context words may appear, but what is left must still be a password on its own.
    if (rest !== lowered && ([...rest].length < this.#minLength || common.has(rest))) return 'context';
    return null;
  }

  /** Throws `weak_password` (400) naming the problem, so a form can say what to change. */
  async check(password: string, email: string): Promise<void> {
    const problem = await this.problem(password, email);
    if (problem) {
      throw new AppError('weak_password', MESSAGES[problem](this.#minLength, this.#maxLength), {
        extra: { reason: problem },
      });
    }
  }

  #contextWords(email: string): string[] {
    const local = email.slice(0, email.lastIndexOf('@')).toLowerCase();
    const words = [this.#appName.toLowerCase(), email.toLowerCase(), local, ...local.split(/[^a-z0-9]+/)];
    return [...new Set(words.filter((word) => word.length >= MIN_CONTEXT_WORD))].sort(
      (a, b) => b.length - a.length,
    );
  }
}
