import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, MaxLength, ValidateIf } from 'class-validator';
import { MAX_CALLBACK_URL_LENGTH } from '../../webhooks/callback-url-policy';

export class UpdateTenantSettingsDto {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: MAX_CALLBACK_URL_LENGTH,
    description:
      "where the relay sends this tenant's signed alerts (`subscription.disabled`, `endpoint.disabled`), with the tenant's webhook secret, retried like any webhook; the same URL policy as a `callbackUrl`; null removes it",
    example: 'https://ops.example.com/uxc-relay-alerts',
  })
  @ValidateIf((_object: object, value: unknown) => value !== undefined && value !== null)
  @IsString({ message: 'alertUrl must be a string or null' })
  @MaxLength(MAX_CALLBACK_URL_LENGTH, {
    message: `alertUrl must be at most ${MAX_CALLBACK_URL_LENGTH} characters`,
  })
  alertUrl?: string | null;
}

/** The tenant's own settings, as the tenant sees them (no secrets). */
export class TenantSettingsDto {
  @ApiProperty({ example: 'ten_01jf8x0q7m3v2c9e4r5t6y7u8i' })
  id!: string;

  @ApiProperty({ example: 'acme-prod' })
  name!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'receives the signed alerts; null: none are sent',
    example: 'https://ops.example.com/uxc-relay-alerts',
  })
  alertUrl!: string | null;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty()
  updatedAt!: Date;
}
