import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { IdentifierKind } from '../domain/patient/patient.entity.js';
import { hmacHex, type ServiceKeys } from './keys.js';

export interface ProtectedIdentifier {
  /** What is shown by default: the value, or its mask for a sensitive kind. */
  value: string;
  /** What exact lookups and the uniqueness constraint use: the value, or its keyed hash. */
  lookup: string;
  /** AES-256-GCM of the value (iv ‖ tag ‖ ciphertext, base64) for a sensitive kind. */
  cipher?: string;
}

/** Resident ID card numbers are the sensitive kind: stored encrypted, looked up by HMAC, shown masked. */
export const isSensitive = (kind: IdentifierKind) => kind === IdentifierKind.RESIDENT_ID;

/**
 * `330326************`: the area code, nothing after it. A resident ID is area (6) + birth date (8) + sequence (3,
 * odd for men) + check (1, computed from the other 17), and whoever is shown the mask is also shown the patient's
 * birth date and sex. So every character after the area code must be hidden: showing the last four (as this mask
 * once did) gave the number back outright, and even the check character alone would leave only about one in eleven
 * of the ~500 sequences of that sex and birth date, ~45 candidates. Hidden as here, ~500 remain. The area code adds
 * little the address does not, and tells staff where the card was issued. The mask depends only on the characters
 * it shows, so masking an old-style mask gives the same mask (the migration that re-masked stored values relies on it).
 */
export function maskIdentifier(value: string): string {
  if (value.length <= 10) return '*'.repeat(value.length);
  return `${value.slice(0, 6)}${'*'.repeat(value.length - 6)}`;
}

export class IdentifierProtector {
  constructor(private readonly keys: ServiceKeys['identifier']) {}

  protect(system: string, kind: IdentifierKind, value: string): ProtectedIdentifier {
    if (!isSensitive(kind)) return { value, lookup: value };
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.encKey, iv);
    // The system is bound as associated data: a ciphertext moved to another system's row will not decrypt.
    cipher.setAAD(Buffer.from(system));
    const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return {
      value: maskIdentifier(value),
      lookup: this.lookup(system, kind, value),
      cipher: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64'),
    };
  }

  lookup(system: string, kind: IdentifierKind, value: string): string {
    return isSensitive(kind) ? hmacHex(this.keys.hmacKey, `${system}|${value}`) : value;
  }

  reveal(system: string, cipherText: string): string {
    const raw = Buffer.from(cipherText, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.keys.encKey, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(system));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}
