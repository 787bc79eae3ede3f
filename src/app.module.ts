import { VisionService } from './multimodal/vision.service';
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Logger, Metrics } from '@drover/runtime';
import { AdmissionService } from './admission/admission.service';
import { KeysController } from './auth/keys.controller';
import { KeyStoreService } from './auth/key-store.service';
import { EgressService } from './egress/egress.service';
import { DashboardController } from './dashboard/dashboard.controller';
import { MeshController } from './mesh/mesh.controller';
import { MeshKeysController } from './mesh/mesh-keys.controller';
import { MeshService } from './mesh/mesh.service';
import { ChatController } from './api/chat.controller';
import { CompletionsController } from './api/completions.controller';
import { HealthController } from './api/health.controller';
import { MessagesController } from './api/messages.controller';
import { CountTokensController } from './api/count-tokens.controller';
import { ResponsesController } from './api/responses.controller';
import { ResponseStoreService } from './storage/response-store.service';
import { EmbeddingsController } from './api/embeddings.controller';
import { AdminController } from './api/admin.controller';
import { ModelsController } from './api/models.controller';
import { TokenizeController } from './api/tokenize.controller';
import { WorkersController } from './api/workers.controller';
import type { GatewayConfig } from './config/options';
import { ApiExceptionFilter } from './errors/api-exception.filter';
import { HttpProxyService } from './inference/http-proxy.service';
import { InferenceService } from './inference/inference.service';
import { ModelCatalogService } from './inference/model-catalog.service';
import { MetricsController } from './observability/metrics.controller';
import { LifecycleService } from './lifecycle/lifecycle.service';
import { RoutingService } from './routing/routing.service';
import { RuntimeModule } from './runtime/runtime.module';
import { ModelBundleService } from './models/model-bundles.service';
import { TokenizerService } from './tokenizer/tokenizer.service';
import { WorkerRegistryService } from './workers/worker-registry.service';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig, logger: Logger, metrics?: Metrics): DynamicModule {
    return {
      module: AppModule,
      imports: [RuntimeModule.forRoot(config, logger, metrics)],
      controllers: [ChatController, CompletionsController, MessagesController, CountTokensController, ResponsesController, EmbeddingsController, ModelsController, TokenizeController, HealthController, WorkersController, MetricsController, DashboardController, AdminController, KeysController, MeshController, MeshKeysController],
      providers: [
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        LifecycleService,
        KeyStoreService,
        EgressService,
        AdmissionService,
        MeshService,
        ResponseStoreService,
        ModelBundleService,
        TokenizerService,
        WorkerRegistryService,
        ModelCatalogService,
        RoutingService,
        InferenceService,
        HttpProxyService,
        VisionService,
      ],
    };
  }
}
