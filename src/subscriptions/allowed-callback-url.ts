import { BadRequestException } from '@nestjs/common';
import { ConfigService } from '../config/config.service';
import { checkCallbackUrl } from '../webhooks/callback-url-policy';

/** The callback URL the policy lets the relay POST to, or a 400 naming `callbackUrl`. */
export async function allowedCallbackUrl(callbackUrl: string, config: ConfigService): Promise<URL> {
  const verdict = await checkCallbackUrl(callbackUrl, {
    allowPrivateNetworks: config.env.callbackAllowPrivateNetworks,
  });
  if (!verdict.ok) throw new BadRequestException([verdict.reason]);
  return verdict.url;
}
