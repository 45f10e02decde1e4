import type { UxcCredential } from './uxc-outcome';

/**
 * Where the relay's UXC is. The composition root provides it: the configured
 * `UXC_BASE_URL`, or the built-in simulator, which also offers the credential
 * local mode's `default` tenant uses.
 */
export class UxcEndpoint {
  constructor(
    readonly baseUrl: string,
    readonly localCredential?: UxcCredential,
  ) {}
}
