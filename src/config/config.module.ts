import { Global, Module } from '@nestjs/common';
import { ConfigService } from './config.service';

@Global()
@Module({
  providers: [{ provide: ConfigService, useFactory: () => ConfigService.fromEnvironment() }],
  exports: [ConfigService],
})
export class ConfigModule {}
