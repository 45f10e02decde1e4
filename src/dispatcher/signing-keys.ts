import type { LaneHead } from '../outbox/delivery.store';
import { signingKey, signWithKeys, WEBHOOK_USER_AGENT } from '../webhooks/webhook-signer';

interface Cached {
  current: string;
  previous: string | null;
  keys: Buffer[];
  previousKey: Buffer | null;
  previousUntil: number | null;
}

/**
 * Each tenant's (and each endpoint's) signing keys, decrypted and decoded once and kept while the
 * ciphertext in the claimed row is the same: a rotation changes it, so the
 * next message is signed with the new keys without asking.
 */
export class SigningKeys {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly open: (ciphertext: string) => string) {}

  headers(head: LaneHead, at: Date): Record<string, string> {
    const timestamp = Math.floor(at.getTime() / 1000);
    return {
      'webhook-id': head.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWithKeys(
        { msgId: head.id, timestamp, body: head.payload },
        this.keysFor(head, at.getTime()),
      ),
      'content-type': 'application/json',
      'user-agent': WEBHOOK_USER_AGENT,
    };
  }

  private keysFor(head: LaneHead, now: number): Buffer[] {
    let cached = this.cache.get(head.secretOwner);
    if (
      !cached ||
      cached.current !== head.webhookSecretEnc ||
      cached.previous !== head.previousSecretEnc
    ) {
      const previousKey = head.previousSecretEnc
        ? signingKey(this.open(head.previousSecretEnc))
        : null;
      cached = {
        current: head.webhookSecretEnc,
        previous: head.previousSecretEnc,
        keys: [signingKey(this.open(head.webhookSecretEnc))],
        previousKey,
        previousUntil: head.previousSecretUntil?.getTime() ?? null,
      };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(head.secretOwner, cached);
    }
    if (cached.previousKey && cached.previousUntil !== null && cached.previousUntil > now) {
      return [cached.keys[0], cached.previousKey];
    }
    return cached.keys;
  }
}
