import type { Client } from '@temporalio/client';
import type { Carrier } from '../integrations/carrier';
import type { Mailer } from '../integrations/mailer';
import type { PaymentGateway } from '../integrations/payment-gateway';
import type { SmsClient } from '../integrations/sms';
import type { Logger } from '../lib/logger';
import type { Models } from '../models';
import type { DeliveryOptions } from '../contracts/delivery.contract';
import type { CustomerLinkSettings } from '../lib/customer-link';

/** Everything activities touch in the outside world, handed in by the worker (or a test) through one factory. */
export interface ActivityDeps {
  models: Models;
  mailer: Mailer;
  mailFrom: string;
  sms: SmsClient;
  smsFrom: string;
  paymentGateway: PaymentGateway;
  carrier: Carrier;
  /** The API as the world reaches it: Twilio posts delivery reports there, feedback links point there. */
  publicBaseUrl: string;
  /** Path of the cancellation policy file, read (and validated) when a cancellation starts. */
  policyFile: string;
  logger: Logger;
  /** Temporal, on the worker's namespace: starts the durable per-message delivery workflows. */
  temporal: Client;
  /** How those deliveries retry; absent, the delivery workflow's own defaults (30 s doubling, 24 h). */
  deliveryRetry?: DeliveryOptions;
  /**
   * The key the customer's links are signed with (lib/customer-link.ts): the customer's mails carry the link to
   * their cancellation's own page (issue #14), and the "cancelled" message's feedback address is that page.
   */
  customerLinks?: CustomerLinkSettings;
}
