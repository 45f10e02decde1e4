import { PgListener } from '../database/pg-listener';
import { DELIVERY_CHANNEL } from '../outbox/delivery.store';

/**
 * LISTENs for the outbox's notifications and calls `onHost` with the callback
 * host of every lane that gained work, in whichever process wrote it.
 */
export class DeliveryWakeups extends PgListener {
  constructor(url: string, onHost: (host: string) => void, onReconnect: () => void) {
    super(url, DELIVERY_CHANNEL, onHost, onReconnect);
  }
}
