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
  async list(): Promise<Record<string, unknown>> {
    return { object: 'list', data: await Promise.all(this.models.list().map((m) => this.modelBody(m))) };
  }

  /**
   * One model; unknown ids are a 404 in OpenAI's shape. The wildcard takes ids with a slash
   * (`Qwen/Qwen3-8B`) whether the client encodes it (`%2F`, as the SDKs do) or not.
   */
  @Get('*')
  async one(@Param('*') id: string): Promise<Record<string, unknown>> {
    return this.modelBody(this.models.resolve(id));
  }

  private async modelBody(m: ServedModel): Promise<Record<string, unknown>> {
    const body: Record<string, unknown> = { id: m.id, object: 'model', created: m.created, owned_by: 'drover', max_model_len: m.maxContextLength };
    // Models on HTTP upstreams are proxied as they are: the gateway does not know what they can do.
    // The model's own files decide its capabilities: wait for them rather than show the default's
    // (they are asked for when its first worker connects, so this is a Map read after that).
    if (m.kind === 'grpc') body.capabilities = modelCapabilities(m, await this.bundles.bundle(m.id));
    return body;
  }
}
