import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
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

/** Whitelisting, unknown fields refused, and every message naming its field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
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
