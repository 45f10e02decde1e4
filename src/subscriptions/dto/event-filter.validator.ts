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
export function IsEventFilter(types: readonly string[] = TASK_EVENT_TYPES): PropertyDecorator {
  return applyDecorators(
    ValidateIf((_object: object, value: unknown) => value !== undefined && value !== null),
    IsArray(),
    ArrayNotEmpty(),
    ArrayMaxSize(types.length),
    ArrayUnique(),
    IsIn(types, {
      each: true,
      message: `events must hold only ${types.join(', ')}`,
    }),
  );
}
