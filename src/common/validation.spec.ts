import { BadRequestException } from '@nestjs/common';
import { IsInt, IsOptional, IsString } from 'class-validator';
import { createValidationPipe } from './validation';

class OptionalQuery {
  @IsOptional()
  @IsInt()
  wait?: number;
}

class RequiredQuery {
  @IsString()
  channel!: string;
}

describe('the validation pipe on empty queries', () => {
  it('answers every empty query for a DTO whose fields are optional with a fresh DTO', async () => {
    const pipe = createValidationPipe();
    const metadata = { type: 'query' as const, metatype: OptionalQuery };
    const first = await pipe.transform({}, metadata);
    const second = await pipe.transform({}, metadata);
    expect(first).toBeInstanceOf(OptionalQuery);
    expect(second).toBeInstanceOf(OptionalQuery);
    expect(second).not.toBe(first);
  });

  it('still refuses an empty query every time when the DTO requires a field', async () => {
    const pipe = createValidationPipe();
    const metadata = { type: 'query' as const, metatype: RequiredQuery };
    for (let i = 0; i < 2; i++) {
      await expect(pipe.transform({}, metadata)).rejects.toBeInstanceOf(BadRequestException);
    }
  });

  it('still validates a query with fields after an empty one passed', async () => {
    const pipe = createValidationPipe();
    const metadata = { type: 'query' as const, metatype: OptionalQuery };
    await pipe.transform({}, metadata);
    await expect(pipe.transform({ wait: 'soon' }, metadata)).rejects.toBeInstanceOf(
      BadRequestException,
    );
    await expect(pipe.transform({ unknown: '1' }, metadata)).rejects.toBeInstanceOf(
      BadRequestException,
    );
  });
});
