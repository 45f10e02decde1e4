import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { bearerToken, secretMatcher } from '../common/bearer-token';
import { ConfigService } from '../config/config.service';

/** `/metrics` is open unless METRICS_TOKEN is set; then it takes `Authorization: Bearer <METRICS_TOKEN>`. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly matches: ((token: string) => boolean) | undefined;

  constructor(config: ConfigService) {
    this.matches = secretMatcher(config.env.metricsToken);
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.matches) return true;
    const token = bearerToken(context.switchToHttp().getRequest<Request>());
    if (!token || !this.matches(token)) {
      throw new UnauthorizedException('metrics need Authorization: Bearer <METRICS_TOKEN>');
    }
    return true;
  }
}
