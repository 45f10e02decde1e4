import { ApiProperty } from '@nestjs/swagger';

export class UxcOutcomeCountDto {
  @ApiProperty({ example: 'upstream-error', description: 'ok, upstream-error or transport-error' })
  outcome!: string;

  @ApiProperty({ example: 3 })
  count!: number;
}

export class UxcCredentialRateDto {
  @ApiProperty({
    example: 'ak-acme',
    description: "the UXC credential's access key (ak); its secret (sk) is never shown",
  })
  credential!: string;

  @ApiProperty({ example: 120, description: 'UXC calls made with it' })
  requests!: number;

  @ApiProperty({ example: 3, description: 'those that ended upstream-error or transport-error' })
  errors!: number;

  @ApiProperty({ example: 0.025, description: 'errors / requests' })
  errorRate!: number;
}

export class OpsSummaryDto {
  @ApiProperty({ description: 'when these numbers were read' })
  at!: Date;

  @ApiProperty({ description: "`tenant` (one tenant's deliveries) or `relay` (the admin: all)" })
  scope!: 'tenant' | 'relay';

  @ApiProperty({ example: 12, description: 'deliveries waiting to be sent or retried' })
  pendingDeliveries!: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 42.5,
    description: 'age in seconds of the oldest pending delivery; null when none is pending',
  })
  oldestPendingAgeSeconds!: number | null;

  @ApiProperty({
    example: 0,
    description: 'deliveries held because their endpoint or subscription is disabled',
  })
  heldDeliveries!: number;

  @ApiProperty({ example: 7, description: 'deliveries that ended `failed`' })
  failedDeliveries!: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.12,
    description:
      'mean poll lag in seconds of the polls this relay process claimed in the last one to two `OPS_SAMPLE_MS` (`uxc_relay_poller_poll_lag_seconds`, its sum and count since then); null when it claimed none',
  })
  pollLagSeconds!: number | null;

  @ApiProperty({
    type: [UxcOutcomeCountDto],
    description:
      'UXC calls of this relay process since it started, by outcome (`uxc_relay_uxc_requests_total`)',
  })
  uxcRequests!: UxcOutcomeCountDto[];

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.01,
    description: 'share of those UXC calls that ended in an error; null before the first call',
  })
  uxcErrorRate!: number | null;

  @ApiProperty({
    type: [UxcCredentialRateDto],
    description:
      "UXC calls of this relay process since it started, per credential (the `credential` label of `uxc_relay_uxc_requests_total`): a tenant key sees its own credential's, the ADMIN_TOKEN every credential's",
  })
  uxcCredentials!: UxcCredentialRateDto[];
}

export class OpsHistorySampleDto {
  @ApiProperty({ description: 'when this sample was taken' })
  at!: Date;

  @ApiProperty({ example: 12, description: 'deliveries waiting to be sent or retried' })
  pendingDeliveries!: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 42.5,
    description: 'age in seconds of the oldest pending delivery then; null when none was pending',
  })
  oldestPendingAgeSeconds!: number | null;

  @ApiProperty({
    example: 0,
    description: 'deliveries held because their endpoint or subscription is disabled',
  })
  heldDeliveries!: number;

  @ApiProperty({
    example: 40,
    description:
      'polls this relay process made since the sample before (`uxc_relay_poller_polls_total`)',
  })
  polls!: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.12,
    description:
      'mean poll lag in seconds of the polls claimed since the sample before (the change of `uxc_relay_poller_poll_lag_seconds` sum over its count); null when none was claimed',
  })
  pollLagSeconds!: number | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    example: 0.01,
    description:
      'share of the UXC calls since the sample before that ended in an error; null when there were none',
  })
  uxcErrorRate!: number | null;

  @ApiProperty({
    type: [UxcCredentialRateDto],
    description:
      'UXC calls since the sample before, per credential that made any: a tenant key sees its own, the ADMIN_TOKEN every one',
  })
  uxcCredentials!: UxcCredentialRateDto[];
}

export class OpsHistoryDto {
  @ApiProperty({ description: "`tenant` (one tenant's deliveries) or `relay` (the admin: all)" })
  scope!: 'tenant' | 'relay';

  @ApiProperty({ example: 30, description: 'seconds between samples (`OPS_SAMPLE_MS`)' })
  sampleIntervalSeconds!: number;

  @ApiProperty({
    type: [OpsHistorySampleDto],
    description:
      'the samples of the last hour, oldest first, kept in the memory of the relay process that answers (empty after it starts)',
  })
  samples!: OpsHistorySampleDto[];
}
