import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { EXAMPLE_CALLBACK_URL } from '../../common/api-docs';
import { MAX_CALLBACK_URL_LENGTH } from '../../webhooks/callback-url-policy';

export class WebhookTestDto {
  @ApiProperty({
    description:
      'the endpoint to send one signed `webhook.test` event to, under the same policy as subscriptions',
    maxLength: MAX_CALLBACK_URL_LENGTH,
    format: 'uri',
    example: EXAMPLE_CALLBACK_URL,
  })
  @IsString()
  @MaxLength(MAX_CALLBACK_URL_LENGTH)
  callbackUrl!: string;
}

export class WebhookTestResultDto {
  @ApiProperty({ description: 'the endpoint answered 2xx in time' })
  delivered!: boolean;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: "the endpoint's status code; null when no answer came",
    example: 204,
  })
  statusCode!: number | null;

  @ApiProperty({ example: 42 })
  durationMs!: number;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'why no answer came (timeout, connection refused, …)',
  })
  error!: string | null;

  @ApiProperty({
    description: 'the `webhook-id` the test message carried',
    example: 'msg_2b0c4b4e6a1d4a0f9b8c7d6e5f4a3b2c',
  })
  webhookId!: string;
}
