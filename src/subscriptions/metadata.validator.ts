import { registerDecorator, ValidationOptions } from 'class-validator';
import { findForbiddenKey } from '../common/request-body.middleware';

export const METADATA_MAX_BYTES = 4096;

/** Why `value` is not acceptable subscription metadata, or undefined when it is. */
export function metadataProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'metadata must be a JSON object';
  }
  const forbidden = findForbiddenKey(value, 'metadata');
  if (forbidden) return `${forbidden}: the key "${forbidden.split('.').pop()}" is not allowed`;
  const size = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (size > METADATA_MAX_BYTES) {
    return `metadata must be at most ${METADATA_MAX_BYTES} bytes as JSON (it is ${size})`;
  }
  return undefined;
}

/** A JSON object of at most 4 KB, without prototype-reaching keys at any depth. */
export function IsSubscriptionMetadata(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isSubscriptionMetadata',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => metadataProblem(value) === undefined,
        defaultMessage: (args) => metadataProblem(args?.value) ?? 'metadata is invalid',
      },
    });
}
