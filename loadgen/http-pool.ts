import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

/**
 * Keep-alive agents for one run, one per origin, each capped at the run's connection limit.
 * Per run (not module-global) so two runs in one process never share or close each other's sockets.
 */
export class HttpPool {
  private readonly agents = new Map<string, HttpAgent>();

  constructor(private readonly maxSockets: number) {}

  agentFor(url: URL): HttpAgent {
    let agent = this.agents.get(url.origin);
    if (!agent) {
      const options = { keepAlive: true, maxSockets: this.maxSockets, maxFreeSockets: this.maxSockets };
      agent = url.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
      this.agents.set(url.origin, agent);
    }
    return agent;
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
