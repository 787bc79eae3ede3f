import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ModelCatalogService, type ServedModel } from '../inference/model-catalog.service';
import { ModelBundleService } from '../models/model-bundles.service';
import { modelCapabilities } from '../models/model-capabilities';

@Controller('v1/models')
export class ModelsController {
  constructor(
    @Inject(ModelCatalogService) private readonly models: ModelCatalogService,
    @Inject(ModelBundleService) private readonly bundles: ModelBundleService,
  ) {}

  @Get()
  list(): Record<string, unknown> {
    return { object: 'list', data: this.models.list().map((m) => this.modelBody(m)) };
  }

  @Get(':id')
  one(@Param('id') id: string): Record<string, unknown> {
    return this.modelBody(this.models.resolve(id));
  }

  private modelBody(m: ServedModel): Record<string, unknown> {
    const body: Record<string, unknown> = { id: m.id, object: 'model', created: m.created, owned_by: 'drover', max_model_len: m.maxContextLength };
    // Models on HTTP upstreams are proxied as they are: the gateway does not know what they can do.
    if (m.kind === 'grpc') body.capabilities = modelCapabilities(m, this.bundles.peek(m.id));
    return body;
  }
}
