import { ApiProperty } from '@nestjs/swagger';

export class TenantResponseDto {
  @ApiProperty({ example: 'ten_01jf8x0q7m3v2c9e4r5t6y7u8i' })
  id!: string;

  @ApiProperty({ example: 'acme-prod' })
  name!: string;

  @ApiProperty({ description: 'the UXC access key (the secret key is never shown)' })
  uxcAk!: string;

  @ApiProperty({ description: 'how many API keys the tenant holds' })
  apiKeys!: number;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty()
  updatedAt!: Date;
}

export class TenantPageDto {
  @ApiProperty({ type: [TenantResponseDto] })
  items!: TenantResponseDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'pass as `?cursor=` for the next page; null on the last',
  })
  nextCursor!: string | null;
}

export class CreatedTenantDto {
  @ApiProperty({ example: 'ten_01jf8x0q7m3v2c9e4r5t6y7u8i' })
  id!: string;

  @ApiProperty({ example: 'acme-prod' })
  name!: string;

  @ApiProperty({
    description: 'the API key: shown only in this answer, stored only as a hash',
    example: 'uxr_…',
  })
  apiKey!: string;
}

export class CreatedApiKeyDto {
  @ApiProperty({ example: 'key_01jf8x0q7m3v2c9e4r5t6y7u8i' })
  id!: string;

  @ApiProperty({ description: 'the new API key: shown only in this answer', example: 'uxr_…' })
  apiKey!: string;
}

export class ApiKeyResponseDto {
  @ApiProperty({ example: 'key_01jf8x0q7m3v2c9e4r5t6y7u8i' })
  id!: string;

  @ApiProperty({
    description: 'the first characters of the key, to tell keys apart',
    example: 'uxr_3kQ9zA',
  })
  prefix!: string;

  @ApiProperty()
  createdAt!: Date;

  @ApiProperty({ type: Date, nullable: true, description: 'to the minute' })
  lastUsedAt!: Date | null;
}

export class WebhookSecretDto {
  @ApiProperty({
    description: 'the Standard Webhooks signing secret: `whsec_` + base64',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  })
  secret!: string;
}
