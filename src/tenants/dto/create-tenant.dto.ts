import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';

export const TENANT_NAME_MAX = 100;
export const UXC_CREDENTIAL_MAX = 256;

export class CreateTenantDto {
  @ApiProperty({
    description: 'unique name of the tenant',
    minLength: 1,
    maxLength: TENANT_NAME_MAX,
    example: 'acme-prod',
  })
  @IsString()
  @Length(1, TENANT_NAME_MAX)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;

  @ApiProperty({
    description: "the tenant's UXC access key",
    minLength: 1,
    maxLength: UXC_CREDENTIAL_MAX,
    example: 'AK8f3a…',
  })
  @IsString()
  @Length(1, UXC_CREDENTIAL_MAX)
  uxcAk!: string;

  @ApiProperty({
    description: "the tenant's UXC secret key: stored encrypted, never shown again",
    minLength: 1,
    maxLength: UXC_CREDENTIAL_MAX,
    writeOnly: true,
  })
  @IsString()
  @Length(1, UXC_CREDENTIAL_MAX)
  uxcSk!: string;
}
