import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { LifecycleService } from '../lifecycle/lifecycle.service';
import { WorkerRegistryService } from '../workers/worker-registry.service';

@Controller()
export class HealthController {
  constructor(
    @Inject(WorkerRegistryService) private readonly registry: WorkerRegistryService,
    @Inject(LifecycleService) private readonly lifecycle: LifecycleService,
  ) {}

  /** Liveness: the process is up and serving HTTP. */
  @Get('health')
  health(): Record<string, unknown> {
    return { status: 'ok' };
  }

  /** Readiness: 503 until a healthy worker exists, and while draining. */
  @Get('readiness')
  readiness(@Res() reply: FastifyReply): void {
    const workers = this.registry.list();
    const ready = workers.filter((w) => w.health === 'ready').length;
    let status = 'ready';
    if (this.lifecycle.draining) status = 'draining';
    else if (!this.registry.hasRoutableWorker()) status = 'no_healthy_worker';
    reply.status(status === 'ready' ? 200 : 503).send({ status, workers: workers.length, ready_workers: ready });
  }
}
