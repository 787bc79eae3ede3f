import { Controller, Get, Header, Inject } from '@nestjs/common';
import type { GatewayConfig } from '../config/options';
import { AdmissionService } from '../admission/admission.service';
import { HttpProxyService } from '../inference/http-proxy.service';
import { InferenceService } from '../inference/inference.service';
import { MeshService } from '../mesh/mesh.service';
import { RoutingService } from '../routing/routing.service';
import { CONFIG } from '../runtime/tokens';
import { workerView } from '../workers/worker-record';
import { WorkerRegistryService } from '../workers/worker-registry.service';
import { DASHBOARD_HTML } from './dashboard-page';

/** The live mesh page and the JSON it polls. */
@Controller('dashboard')
export class DashboardController {
  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(WorkerRegistryService) private readonly registry: WorkerRegistryService,
    @Inject(RoutingService) private readonly routing: RoutingService,
    @Inject(InferenceService) private readonly inference: InferenceService,
    @Inject(AdmissionService) private readonly admission: AdmissionService,
    @Inject(MeshService) private readonly mesh: MeshService,
    @Inject(HttpProxyService) private readonly proxy: HttpProxyService,
  ) {}

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  page(): string {
    return DASHBOARD_HTML;
  }

  @Get('state')
  state(): Record<string, unknown> {
    return {
      node: this.mesh.nodeName,
      mesh: this.mesh.enabled,
      members: this.mesh.memberSummaries(),
      workers: this.registry.list().map((w) => ({ ...workerView(w), mesh_in_flight: this.mesh.meshInFlight(w.id), mesh_awaiting_first_token: this.mesh.meshAwaitingFirstToken(w.id) })),
      routing: this.routing.stats(),
      requestsTotal: this.inference.servedCount + this.proxy.servedCount,
      inFlight: this.admission.inFlight,
      policy: this.config.policy,
    };
  }
}
