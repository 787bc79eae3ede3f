import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { MeshService } from '../mesh/mesh.service';
import { WORKER_ROLES, workerView, type WorkerRecord } from '../workers/worker-record';
import { WorkerRegistryService } from '../workers/worker-registry.service';
import { parseBody } from './validation';

const specFields = {
  model: z.string().min(1).optional(),
  protocol: z.enum(['sglang', 'vllm', 'auto']).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  disabled: z.boolean().optional(),
  // Sent to this worker as "authorization: Bearer" metadata; never shown by GET /workers nor shared over the mesh.
  apiKey: z.string().min(1).max(4096).optional(),
  role: z.enum(WORKER_ROLES).optional(),
  bootstrapPort: z.number().int().min(1).max(65535).optional(),
};
const createSchema = z.strictObject({ url: z.string(), ...specFields });
const patchSchema = z.strictObject({ url: z.string().optional(), ...specFields });

/** Worker registry CRUD. DELETE drains the worker (no new requests, in-flight finish) before removal. */
@Controller('workers')
export class WorkersController {
  constructor(
    @Inject(WorkerRegistryService) private readonly registry: WorkerRegistryService,
    @Inject(MeshService) private readonly mesh: MeshService,
  ) {}

  /** The worker as this node sees it, plus every mesh node's health verdict on it and the mesh-wide load (null with the mesh off). */
  private view(w: WorkerRecord): Record<string, unknown> {
    return { ...workerView(w), mesh_in_flight: this.mesh.meshInFlight(w.id), mesh_awaiting_first_token: this.mesh.meshAwaitingFirstToken(w.id), mesh_health: this.mesh.healthVerdicts(w.id) };
  }

  @Get()
  list(): Record<string, unknown> {
    return { object: 'list', data: this.registry.list().map((w) => this.view(w)) };
  }

  @Get(':id')
  one(@Param('id') id: string): Record<string, unknown> {
    return this.view(this.registry.get(id));
  }

  @Post()
  async create(@Body() raw: unknown, @Res() reply: FastifyReply): Promise<void> {
    const body = parseBody(createSchema, raw);
    const w = await this.registry.add(body);
    reply.status(201).header('location', `/workers/${w.id}`).send(this.view(w));
  }

  @Put(':id')
  async replace(@Param('id') id: string, @Body() raw: unknown): Promise<Record<string, unknown>> {
    const body = parseBody(createSchema, raw);
    return this.view(await this.registry.update(id, body, true));
  }

  @Patch(':id')
  async patch(@Param('id') id: string, @Body() raw: unknown): Promise<Record<string, unknown>> {
    const body = parseBody(patchSchema, raw);
    return this.view(await this.registry.update(id, body, false));
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@Param('id') id: string): Promise<void> {
    await this.registry.remove(id);
  }
}
