import { Injectable } from '@nestjs/common';

export type LifecyclePhase = 'running' | 'draining' | 'closing';

/**
 * The node's shutdown phase. draining: readiness is 503 so load balancers stop sending, but
 * requests that still arrive are served; closing: new inference requests get 503 at once while
 * in-flight ones finish.
 */
@Injectable()
export class LifecycleService {
  private current: LifecyclePhase = 'running';

  get phase(): LifecyclePhase {
    return this.current;
  }

  get draining(): boolean {
    return this.current !== 'running';
  }

  get closing(): boolean {
    return this.current === 'closing';
  }

  startDraining(): void {
    if (this.current === 'running') this.current = 'draining';
  }

  startClosing(): void {
    this.current = 'closing';
  }
}
