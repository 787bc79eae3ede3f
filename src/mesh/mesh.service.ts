import { Inject, Injectable } from '@nestjs/common';
import type { GatewayConfig } from '../config/options';
import { CONFIG } from '../runtime/tokens';

export interface MemberSummary {
  name: string;
  state: string;
  incarnation: number;
  address: string;
  syncLag?: number;
  lastContactMs?: number | null;
}

/**
 * This node's place in the mesh. With the mesh off, the node is a mesh of one: itself, alive.
 */
@Injectable()
export class MeshService {
  constructor(@Inject(CONFIG) private readonly config: GatewayConfig) {}

  get enabled(): boolean {
    return false;
  }

  get nodeName(): string {
    return this.config.nodeName ?? `${this.config.host}:${this.config.port}`;
  }

  memberSummaries(): MemberSummary[] {
    return [{ name: this.nodeName, state: 'alive', incarnation: 0, address: `${this.config.host}:${this.config.port}` }];
  }

  /** In-flight requests on a worker across the whole mesh (this node's count when the mesh is off). */
  meshInFlight(_workerId: string): number | null {
    return null;
  }
}
