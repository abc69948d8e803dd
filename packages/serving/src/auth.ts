// Optional API key: `Authorization: Bearer <key>`, compared in constant time (both sides hashed to
// the same length first, so neither the key's length nor a matching prefix shows in the timing).
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function keyChecker(apiKey: string): (authorization: string | undefined) => boolean {
  const want = digest(apiKey);
  return (authorization) => {
    const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    // Hash something even without a header, so a missing and a wrong key take the same time.
    const got = digest(m ? m[1].trim() : '');
    return timingSafeEqual(want, got) && m !== null;
  };
}
