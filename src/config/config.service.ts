import { Injectable } from '@nestjs/common';
import { Env, isLocalMode, parseEnv, ParseOptions, unknownVariableWarnings } from './env';
import { ensureLocalEncryptionKey } from './local-secrets';

/**
 * The validated configuration. Nothing else in the relay reads `process.env`:
 * the whole environment is parsed once, here, and a bad value stops the start.
 */
@Injectable()
export class ConfigService {
  constructor(
    readonly env: Readonly<Env>,
    /** what is worth a line at start, such as a misspelt variable */
    readonly warnings: readonly string[] = [],
  ) {}

  static fromEnvironment(
    source: Record<string, string | undefined> = process.env,
    options: ParseOptions = {},
  ): ConfigService {
    const env = parseEnv(source, options);
    if (env.encryptionKey === undefined && options.requireEncryptionKey !== false) {
      env.encryptionKey = ensureLocalEncryptionKey(env.dataDir);
    }
    return new ConfigService(env, unknownVariableWarnings(source));
  }

  /** In-process simulator: local mode, or asked for with UXC_SIMULATOR. */
  get usesSimulator(): boolean {
    return this.env.uxcBaseUrl === undefined && (this.localMode || this.env.uxcSimulator);
  }

  get localMode(): boolean {
    return isLocalMode(this.env);
  }

  get encryptionKey(): Buffer {
    if (!this.env.encryptionKey) throw new Error('ENCRYPTION_KEY is not configured');
    return this.env.encryptionKey;
  }
}
