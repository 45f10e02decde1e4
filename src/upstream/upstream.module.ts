import { Global, Logger, Module } from '@nestjs/common';
import { join } from 'node:path';
import { ConfigService } from '../config/config.service';
import { InProcessSimulator } from './in-process-simulator';
import { UxcEndpoint } from '../uxc/uxc-endpoint';

/**
 * Which UXC the relay polls, decided here at the composition root so that
 * nothing in `src/uxc` or `src/tenants` knows the simulator: `UXC_BASE_URL`,
 * or the built-in simulator in local mode or with `UXC_SIMULATOR=true`.
 * Configuration has already refused a DATABASE_URL with neither.
 */
export async function resolveUpstream(
  config: ConfigService,
  logger = new Logger('Upstream'),
): Promise<UxcEndpoint> {
  const { uxcBaseUrl, dataDir } = config.env;
  if (uxcBaseUrl !== undefined) return new UxcEndpoint(uxcBaseUrl);
  if (!config.usesSimulator) throw new Error('UXC_BASE_URL is not set');
  const simulator = await InProcessSimulator.start({
    // a local relay's tasks carry on where they were after a restart; tests get a fresh one
    stateFile: config.localMode ? join(dataDir, 'simulator-tasks.json') : undefined,
  });
  logger.warn(
    `${config.localMode ? 'UXC_BASE_URL is not set' : 'UXC_SIMULATOR=true'}: polling the built-in UXC simulator at ${simulator.baseUrl} — not a real UXC`,
  );
  return simulator;
}

/** `UxcEndpoint` is an async provider: the simulator listens before the poller is even constructed. */
@Global()
@Module({
  providers: [
    {
      provide: UxcEndpoint,
      inject: [ConfigService],
      useFactory: (c: ConfigService) => resolveUpstream(c),
    },
  ],
  exports: [UxcEndpoint],
})
export class UpstreamModule {}
