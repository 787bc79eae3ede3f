import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { workerView } from '../workers/worker-record';
import { WorkerRegistryService } from '../workers/worker-registry.service';
import { parseBody } from './validation';

const specFields = {
  model: z.string().min(1).optional(),
  protocol: z.enum(['sglang', 'vllm', 'auto']).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  disabled: z.boolean().optional(),
};
const createSchema = z.strictObject({ url: z.string(), ...specFields });
const patchSchema = z.strictObject({ url: z.string().optional(), ...specFields });

/** Worker registry CRUD. DELETE drains the worker (no new requests, in-flight finish) before removal. */
@Controller('workers')
export class WorkersController {
  constructor(@Inject(WorkerRegistryService) private readonly registry: WorkerRegistryService) {}

  @Get()
  list(): Record<string, unknown> {
    return { object: 'list', data: this.registry.list().map(workerView) };
  }

  @Get(':id')
  one(@Param('id') id: string): Record<string, unknown> {
    return workerView(this.registry.get(id));
  }

  @Post()
  async create(@Body() raw: unknown, @Res() reply: FastifyReply): Promise<void> {
    const body = parseBody(createSchema, raw);
    const w = await this.registry.add(body);
    reply.status(201).header('location', `/workers/${w.id}`).send(workerView(w));
  }

  @Put(':id')
  async replace(@Param('id') id: string, @Body() raw: unknown): Promise<Record<string, unknown>> {
    const body = parseBody(createSchema, raw);
    return workerView(await this.registry.update(id, body, true));
  }

  @Patch(':id')
  async patch(@Param('id') id: string, @Body() raw: unknown): Promise<Record<string, unknown>> {
    const body = parseBody(patchSchema, raw);
    return workerView(await this.registry.update(id, body, false));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.registry.remove(id);
  }
}
