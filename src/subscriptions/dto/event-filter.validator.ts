import { applyDecorators } from '@nestjs/common';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  ValidateIf,
} from 'class-validator';
import { TASK_EVENT_TYPES } from '../../webhooks/webhook-payload';

/**
 * An `events` filter: a non-empty list of distinct event types, or null for
 * all of them (null is what a subscription without a filter reads back as,
 * so it may be sent back).
 */
export function IsEventFilter(): PropertyDecorator {
  return applyDecorators(
    ValidateIf((_object: object, value: unknown) => value !== undefined && value !== null),
    IsArray(),
    ArrayNotEmpty(),
    ArrayMaxSize(TASK_EVENT_TYPES.length),
    ArrayUnique(),
    IsIn(TASK_EVENT_TYPES, {
      each: true,
      message: `events must hold only ${TASK_EVENT_TYPES.join(', ')}`,
    }),
  );
}
