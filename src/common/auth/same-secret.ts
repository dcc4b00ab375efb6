import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time: hashing first gives equal lengths, so the comparison leaks nothing about length. */
export function sameSecret(candidate: string | undefined | null, secret: string): boolean {
  if (typeof candidate !== 'string' || candidate.length === 0) return false;
  return timingSafeEqual(sha256(candidate), sha256(secret));
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
