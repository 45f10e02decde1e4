import { Injectable, NotFoundException } from '@nestjs/common';
import { decodeCursor, Page, PageQueryDto, pageLimit, toPage } from '../common/pagination';
import { PrismaService } from '../database/prisma.service';
import type { Task, TaskEvent } from '../generated/prisma/client';
import { ListTasksQueryDto } from './dto/list-tasks.query';
import { TaskEventResponseDto, TaskResponseDto } from './dto/task-response.dto';

/** Reads what the poller records: tasks as they are now, and their history. */
@Injectable()
export class TasksService {
  constructor(private readonly prisma: PrismaService) {}

  async get(tenantId: string, sid: string): Promise<TaskResponseDto> {
    return this.toResponse(await this.find(tenantId, sid));
  }

  async list(tenantId: string, query: ListTasksQueryDto): Promise<Page<TaskResponseDto>> {
    const limit = pageLimit(query);
    const after = query.cursor ? decodeCursor(query.cursor, { idPrefix: 'task' }) : undefined;
    const rows = await this.prisma.task.findMany({
      where: {
        tenantId,
        ...(query.state !== undefined ? { state: query.state } : {}),
        ...(query.tracking !== undefined ? { tracking: query.tracking } : {}),
        ...(after ? { id: { gt: after } } : {}),
      },
      orderBy: { id: 'asc' },
      take: limit + 1,
    });
    return toPage(
      rows,
      limit,
      (row) => row.id,
      (row) => this.toResponse(row),
    );
  }

  /** The task's history, oldest first; the cursor is a sequence number. */
  async events(
    tenantId: string,
    sid: string,
    query: PageQueryDto,
  ): Promise<Page<TaskEventResponseDto>> {
    const task = await this.find(tenantId, sid);
    const limit = pageLimit(query);
    const after = query.cursor ? decodeCursor(query.cursor, 'sequence') : undefined;
    const rows = await this.prisma.taskEvent.findMany({
      where: { taskId: task.id, ...(after !== undefined ? { sequence: { gt: after } } : {}) },
      orderBy: { sequence: 'asc' },
      take: limit + 1,
    });
    return toPage(
      rows,
      limit,
      (row) => row.sequence,
      (row) => this.toEventResponse(row),
    );
  }

  private async find(tenantId: string, sid: string): Promise<Task> {
    const task = await this.prisma.task.findUnique({ where: { tenantId_sid: { tenantId, sid } } });
    if (!task) throw new NotFoundException('no task with this sid: subscribe to it first');
    return task;
  }

  private toResponse(row: Task): TaskResponseDto {
    return {
      sid: row.sid,
      state: row.state,
      status: row.status,
      progress: row.progress,
      queueNum: row.queueNum,
      queueTotal: row.queueTotal,
      costTime: row.costTime,
      message: row.message,
      outputResult: row.outputResult,
      photoParameters: row.photoParameters,
      tracking: row.tracking,
      sequence: row.sequence,
      firstSeenAt: row.firstSeenAt,
      updatedAt: row.updatedAt,
      lastPolledAt: row.lastPolledAt,
      nextPollAt: row.nextPollAt,
    };
  }

  private toEventResponse(row: TaskEvent): TaskEventResponseDto {
    return {
      sequence: row.sequence,
      type: row.type,
      state: row.state,
      previousState: row.previousState,
      status: row.status,
      progress: row.progress,
      queueNum: row.queueNum,
      queueTotal: row.queueTotal,
      costTime: row.costTime,
      message: row.message,
      outputResult: row.outputResult,
      errNo: row.errNo,
      errMsg: row.errMsg,
      observedAt: row.observedAt,
    };
  }
}
