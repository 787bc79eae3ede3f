import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ModelCatalogService, type ServedModel } from '../inference/model-catalog.service';

@Controller('v1/models')
export class ModelsController {
  constructor(@Inject(ModelCatalogService) private readonly models: ModelCatalogService) {}

  @Get()
  list(): Record<string, unknown> {
    return { object: 'list', data: this.models.list().map(modelBody) };
  }

  @Get(':id')
  one(@Param('id') id: string): Record<string, unknown> {
    return modelBody(this.models.resolve(id));
  }
}

function modelBody(m: ServedModel): Record<string, unknown> {
  return { id: m.id, object: 'model', created: m.created, owned_by: 'drover', max_model_len: m.maxContextLength };
}
