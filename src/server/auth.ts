import { createHash, timingSafeEqual } from 'node:crypto';

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'latin1').digest();
}

/**
 * The shared secrets of one instance (docs/protocol.md 12.5). Candidates are compared as
 * SHA-256 digests with timingSafeEqual, so the time taken depends neither on how much of
 * a secret was guessed right nor on its length; every configured secret is compared, so
 * it does not tell which one matched either.
 */
export class SecretCheck {
  private readonly digests: Buffer[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new RangeError('SecretCheck needs at least one secret');
    this.digests = secrets.map(digest);
  }

  accepts(candidate: string): boolean {
    const given = digest(candidate);
    let match = false;
    for (const expected of this.digests) if (timingSafeEqual(given, expected)) match = true;
    return match;
  }
}

/** The check for `secrets`, or null when there are none (no authentication, as the original). */
export function secretCheck(secrets: readonly string[] | undefined): SecretCheck | null {
  return secrets === undefined || secrets.length === 0 ? null : new SecretCheck(secrets);
}
