import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({
    description: 'the field, as a dotted path (`metadata.order`, `items.3.sid`), or `request`',
    example: 'sid',
  })
  field!: string;

  @ApiProperty({ example: 'sid is required' })
  message!: string;
}

/** The body of every error answer. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request' })
  error!: string;

  @ApiProperty({
    description: 'what is wrong, naming the field; several problems are joined with `; `',
    example: 'sid is required; callbackUrl must be shorter than or equal to 2048 characters',
  })
  message!: string;

  @ApiPropertyOptional({
    type: () => [FieldErrorDto],
    description: 'on 400, 415 and 422: each problem with the field it is about',
  })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({ description: 'on 500 only: the id of the logged error' })
  errorId?: string;
}

/** Examples of real values, from the UXC fixtures (`test/fixtures/uxc/`). */
export const EXAMPLE_SID = 'BT|7aa93d45-4b09-4dcd-9861-aaa69e619b2e';
export const EXAMPLE_OUTPUT_RESULT = [
  'cos://zyb-uxc-aigc-1253445850/batch_tasks/comfyui/output/9fb713ed-7ced-429c-9e53-70cdbc4a5feb.WEBP',
  'cos://zyb-uxc-aigc-1253445850/batch_tasks/comfyui/output/2e76ea9b-b7f7-4587-8196-a4b1c641e9a9.WEBP',
];
export const EXAMPLE_CALLBACK_URL = 'https://hooks.example.com/uxc';

const tooMany = ApiTooManyRequestsResponse({
  description: 'over API_RATE_LIMIT requests a minute for this key; see `Retry-After`',
  type: ErrorResponseDto,
});

/** Auth and the errors every tenant route can answer with. */
export function TenantRoute(options: { notFound?: boolean; badRequest?: boolean } = {}) {
  return applyDecorators(
    ApiBearerAuth('tenant'),
    ApiUnauthorizedResponse({ description: 'missing or wrong API key', type: ErrorResponseDto }),
    tooMany,
    ...(options.badRequest === false
      ? []
      : [ApiBadRequestResponse({ description: 'malformed input', type: ErrorResponseDto })]),
    ...(options.notFound
      ? [
          ApiNotFoundResponse({
            description: 'unknown id, or one of another tenant',
            type: ErrorResponseDto,
          }),
        ]
      : []),
  );
}

/** Auth and the errors every admin route can answer with. */
export function AdminRoute(options: { notFound?: boolean } = {}) {
  return applyDecorators(
    ApiBearerAuth('admin'),
    ApiUnauthorizedResponse({
      description: 'missing or wrong ADMIN_TOKEN',
      type: ErrorResponseDto,
    }),
    ApiBadRequestResponse({ description: 'malformed input', type: ErrorResponseDto }),
    tooMany,
    ...(options.notFound
      ? [ApiNotFoundResponse({ description: 'unknown tenant', type: ErrorResponseDto })]
      : []),
  );
}
