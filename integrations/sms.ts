import twilio from 'twilio';
import type { Config } from '../lib/config';

export type SmsClient = ReturnType<typeof twilio>;

/**
 * The real twilio client. With TWILIO_API_BASE_URL set (the local stack and tests) its Messages API calls go
 * to that address, which answers as Twilio's does; without it they go to Twilio's cloud.
 */
export function createSmsClient(
  config: Pick<Config, 'TWILIO_ACCOUNT_SID' | 'TWILIO_AUTH_TOKEN' | 'TWILIO_API_BASE_URL'>,
): SmsClient {
  const client = twilio(config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN);
  if (config.TWILIO_API_BASE_URL) client.api.baseUrl = config.TWILIO_API_BASE_URL.replace(/\/$/, '');
  return client;
}
