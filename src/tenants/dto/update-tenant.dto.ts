import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';
import { TENANT_NAME_MAX, UXC_CREDENTIAL_MAX } from './create-tenant.dto';

/** At least one field; the others stay as they are. */
export class UpdateTenantDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: TENANT_NAME_MAX })
  @IsOptional()
  @IsString()
  @Length(1, TENANT_NAME_MAX)
  @Matches(/\S/, { message: 'name must not be blank' })
  name?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: UXC_CREDENTIAL_MAX })
  @IsOptional()
  @IsString()
  @Length(1, UXC_CREDENTIAL_MAX)
  uxcAk?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: UXC_CREDENTIAL_MAX, writeOnly: true })
  @IsOptional()
  @IsString()
  @Length(1, UXC_CREDENTIAL_MAX)
  uxcSk?: string;
}
