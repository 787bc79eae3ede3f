import { Body, Controller, Delete, Get, Inject, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AdmissionService } from '../admission/admission.service';
import { parseBody } from '../api/validation';
import { createKeySchema, publicView } from './key-record';
import { KeyStoreService } from './key-store.service';

/**
 * Virtual API keys (admin plane: the auth hook lets only the admin key through). A key is shown
 * once, in the answer to create or rotate; listings show ids, limits and spend, never keys or hashes.
 */
@Controller('admin/keys')
export class KeysController {
  constructor(
    @Inject(KeyStoreService) private readonly keys: KeyStoreService,
    @Inject(AdmissionService) private readonly admission: AdmissionService,
  ) {}

  @Get()
  list(): Record<string, unknown> {
    return { object: 'list', data: this.keys.list().map(([id, r]) => publicView(id, r, this.admission.spentTokens(id))) };
  }

  @Get(':id')
  one(@Param('id') id: string): Record<string, unknown> {
    return publicView(id, this.keys.get(id), this.admission.spentTokens(id));
  }

  @Post()
  create(@Body() raw: unknown, @Res() reply: FastifyReply): void {
    const { id, key, record } = this.keys.create(parseBody(createKeySchema, raw ?? {}));
    reply.status(201).header('location', `/admin/keys/${id}`).header('cache-control', 'no-store').send({ ...publicView(id, record, 0), key });
  }

  @Post(':id/rotate')
  rotate(@Param('id') id: string, @Res() reply: FastifyReply): void {
    const { key, record } = this.keys.rotate(id);
    reply.status(200).header('cache-control', 'no-store').send({ ...publicView(id, record, this.admission.spentTokens(id)), key });
  }

  /** Revokes (the record stays, flagged, so a stale replica cannot bring the key back). */
  @Delete(':id')
  revoke(@Param('id') id: string): Record<string, unknown> {
    return publicView(id, this.keys.revoke(id), this.admission.spentTokens(id));
  }
}
