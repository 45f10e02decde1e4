import { Injectable } from '@nestjs/common';
import { Env, isLocalMode, parseEnv } from './env';
import { ensureLocalEncryptionKey } from './local-secrets';

/**
 * The validated configuration. Nothing else in the relay reads `process.env`:
 * the whole environment is parsed once, here, and a bad value stops the start.
 */
@Injectable()
export class ConfigService {
  constructor(readonly env: Readonly<Env>) {}

  static fromEnvironment(source: Record<string, string | undefined> = process.env): ConfigService {
    const env = parseEnv(source);
    if (env.encryptionKey === undefined) env.encryptionKey = ensureLocalEncryptionKey(env.dataDir);
    return new ConfigService(env);
  }

  get localMode(): boolean {
    return isLocalMode(this.env);
  }

  get encryptionKey(): Buffer {
    if (!this.env.encryptionKey) throw new Error('ENCRYPTION_KEY is not configured');
    return this.env.encryptionKey;
  }
}
