import { BadRequestException, Injectable, PipeTransform } from '@nestjs/common';

export const SID_MAX_LENGTH = 256;

/** Why `sid` is not a sid, or undefined when it is: 1–256 characters, not all blank. */
export function sidProblem(sid: string, field = 'sid'): string | undefined {
  if (sid.length === 0 || sid.length > SID_MAX_LENGTH) {
    return `${field} must be 1 to ${SID_MAX_LENGTH} characters`;
  }
  if (!/\S/.test(sid)) return `${field} must not be blank`;
  return undefined;
}

/** A sid in a path (`/v1/tasks/:sid`): refused with 400 rather than looked up in vain. */
@Injectable()
export class SidPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const problem = sidProblem(value);
    if (problem) throw new BadRequestException(problem);
    return value;
  }
}
