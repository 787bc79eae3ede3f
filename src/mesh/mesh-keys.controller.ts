import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { z } from 'zod';
import { parseBody } from '../api/validation';
import { MeshService } from './mesh.service';

const installSchema = z.strictObject({ key: z.string().min(1).max(200) });

/**
 * Cluster key rotation on this node, without a restart (admin plane: /mesh/* needs the admin key).
 * Rotate the whole mesh in three passes, each on every node before the next: install the new key
 * (accepted, not yet sent with), make it primary (sent with; the old one still accepted), retire
 * the old one. Keys are named by fingerprint; a key is never echoed. Changes here last until the
 * process restarts: update --mesh-key / --mesh-key-accept too.
 */
@Controller('mesh/keys')
export class MeshKeysController {
  constructor(@Inject(MeshService) private readonly mesh: MeshService) {}

  @Get()
  list(): Record<string, unknown> {
    return { object: 'list', data: this.mesh.meshKeys() };
  }

  @Post()
  @HttpCode(201)
  install(@Body() raw: unknown): Record<string, unknown> {
    return this.mesh.installMeshKey(parseBody(installSchema, raw).key);
  }

  @Post(':id/primary')
  @HttpCode(200)
  use(@Param('id') id: string): Record<string, unknown> {
    return this.mesh.useMeshKey(id);
  }

  @Delete(':id')
  retire(@Param('id') id: string): Record<string, unknown> {
    return this.mesh.retireMeshKey(id);
  }
}
