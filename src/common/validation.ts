import {
  ArgumentMetadata,
  BadRequestException,
  Type,
  ValidationError,
  ValidationPipe,
} from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { FieldError } from './error-body';

/** Each field's problems, with dotted paths and one `is required` line for an absent field. */
export function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const constraints = Object.values(error.constraints ?? {});
    // optional fields skip validation when absent, so any complaint about an
    // absent value means the field is required; one line says so
    if (
      constraints.length > 0 &&
      error.value === undefined &&
      !error.constraints?.whitelistValidation
    ) {
      return [{ field, message: `${field} is required` }];
    }
    const own = constraints.map((text) => ({
      field,
      message: text.startsWith(error.property)
        ? text.replace(error.property, field)
        : `${field}: ${text}`,
    }));
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * Most reads come without a query string. Whether an empty query is valid for
 * a DTO is the same every time, so it is validated once per DTO; after that an
 * empty query is only turned into its DTO, without the validator's walk over
 * the DTO's rules on every request.
 */
export class RelayValidationPipe extends ValidationPipe {
  private readonly validWhenEmpty = new Set<Type<unknown>>();

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const dto = metadata.type === 'query' && isEmptyObject(value) ? metadata.metatype : undefined;
    if (dto && this.validWhenEmpty.has(dto)) return plainToInstance(dto, {}, this.transformOptions);
    const transformed: unknown = await super.transform(value, metadata);
    if (dto) this.validWhenEmpty.add(dto);
    return transformed;
  }
}

function isEmptyObject(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length === 0
  );
}

/** Whitelisting, unknown fields refused, and every message naming its field. */
export function createValidationPipe(): ValidationPipe {
  return new RelayValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const list = flatten(errors);
      return new BadRequestException({ message: list.map((e) => e.message), errors: list });
    },
  });
}
