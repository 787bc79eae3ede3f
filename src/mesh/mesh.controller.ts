import { Controller, Get, Inject } from '@nestjs/common';
import { MeshService } from './mesh.service';

/** Members with state and incarnation, per-peer sync lag/bytes/last contact, shard versions, tree and registry sizes. */
@Controller('mesh')
export class MeshController {
  constructor(@Inject(MeshService) private readonly mesh: MeshService) {}

  @Get('status')
  status(): Record<string, unknown> {
    return this.mesh.status();
  }
}
