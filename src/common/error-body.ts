import { HttpStatus } from '@nestjs/common';

/** One field's problem: `field` is the dotted path (`metadata.a`), or `request` for the whole. */
export interface FieldError {
  field: string;
  message: string;
}

/** The body of every error answer: `message` is always one string; `errors` lists each field. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  errors?: FieldError[];
  errorId?: string;
}

const FIELD_FIRST =
  /^([a-z_$][\w$]*(?:\.[\w$()]+)*)(?::| (?:must|is|should|can|holds|differs|points|host|resolves|the key)\b)/;

/** `sid must be a string` names `sid`; a message that names no field is about the request. */
export function fieldOf(message: string): string {
  const unknown = /^property (\S+) should not exist/.exec(message);
  if (unknown) return unknown[1];
  const match = FIELD_FIRST.exec(message);
  return match && !['the', 'a', 'an', 'request'].includes(match[1]) ? match[1] : 'request';
}

export function errorBody(status: number, problems: string | string[]): ErrorBody {
  const list = typeof problems === 'string' ? [problems] : problems;
  return {
    statusCode: status,
    error: reasonPhrase(status),
    message: list.join('; '),
    ...(status === 400 || status === 422 || status === 415
      ? { errors: list.map((message) => ({ field: fieldOf(message), message })) }
      : {}),
  };
}

export function reasonPhrase(status: number): string {
  const name = HttpStatus[status] as string | undefined;
  if (!name) return 'Error';
  return name
    .toLowerCase()
    .split('_')
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join(' ');
}
