import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load-config';
import { OPTION_SPECS } from '../../src/config/options';

/** What an operator exports for each required key (a real 32-byte key: the mesh key is checked). */
const OPERATOR_KEY = randomBytes(32).toString('base64');

// No Docker engine or cluster runs here: these tests keep the deployment files honest against
// the gateway's real CLI (flags, env vars) and each other (services, selectors, files).
const root = join(__dirname, '../..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const ENV_NAMES = new Set(OPTION_SPECS.map((s) => s.env));

function mockWorkerFlags(): Set<string> {
  const help = execFileSync('node', [join(root, 'dist/libs/mock-worker/src/cli.js'), '--help']).toString();
  return new Set([...help.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]));
}

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, any> };
  const services = compose.services;
  const gateways = Object.keys(services).filter((n) => n.startsWith('gateway-'));
  const workers = Object.keys(services).filter((n) => n.startsWith('worker-'));

  it('has three gateways, four workers, redis, an OTel collector and Prometheus', () => {
    expect(gateways).toHaveLength(3);
    expect(workers).toHaveLength(4);
    for (const s of ['redis', 'otel-collector', 'prometheus']) expect(services).toHaveProperty(s);
  });

  it('only depends on services that exist, and mounts files that exist', () => {
    for (const [name, svc] of Object.entries(services)) {
      for (const dep of Object.keys(svc.depends_on ?? {})) expect(services, `${name} → ${dep}`).toHaveProperty(dep);
      for (const v of svc.volumes ?? []) {
        const host = String(v).split(':')[0];
        if (host.startsWith('./')) expect(existsSync(join(root, host)), `${name} mounts ${host}`).toBe(true);
      }
    }
  });

  it('gives gateways only env vars the gateway knows, a valid config, and peers/workers that exist', () => {
    for (const g of gateways) {
      const env = services[g].environment as Record<string, string>;
      for (const key of Object.keys(env).filter((k) => k.startsWith('DROVER_'))) expect(ENV_NAMES.has(key), `${g}: ${key}`).toBe(true);
      const config = loadConfig([], gatewayEnv(g));
      expect(config.mesh).toBe(true);
      expect(config.nodeName).toBe(g);
      for (const seed of config.meshSeeds) {
        const [host, port] = seed.split(':');
        expect(gateways).toContain(host);
        expect(Number(port)).toBe(config.meshPort);
      }
      for (const url of config.workerUrls) expect(workers).toContain(new URL(url).hostname);
      expect(services[g].healthcheck?.test.join(' ')).toContain('/readiness');
      expect(services[g].deploy?.resources?.limits?.memory).toBeTruthy();
    }
  });

  it('starts workers with flags the mock-worker CLI accepts', () => {
    const flags = mockWorkerFlags();
    for (const w of workers) {
      for (const arg of services[w].command as string[]) if (arg.startsWith('--')) expect(flags.has(arg.slice(2)), `${w}: ${arg}`).toBe(true);
      expect(services[w].deploy?.resources?.limits?.memory).toBeTruthy();
    }
  });

  it('scrapes every gateway from Prometheus', () => {
    const prom = parse(read('deploy/compose/prometheus.yml'));
    const targets: string[] = prom.scrape_configs[0].static_configs[0].targets;
    expect(targets.map((t) => t.split(':')[0]).sort()).toEqual([...gateways].sort());
  });

  /** A gateway's environment with compose's `${VAR:-default}` resolved to the default and `${VAR:?…}` (required) to a stand-in. */
  const gatewayEnv = (g: string): Record<string, string> =>
    Object.fromEntries(
      Object.entries(services[g].environment as Record<string, unknown>).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1').replace(/\$\{([A-Z_]+):\?[^}]*\}/g, OPERATOR_KEY)]),
    );

  it('ships no default keys: the mesh and admin keys must come from the environment', () => {
    for (const g of gateways) {
      const env = services[g].environment as Record<string, string>;
      for (const name of ['DROVER_MESH_KEY', 'DROVER_ADMIN_KEY']) expect(String(env[name]), `${g}: ${name}`).toMatch(/^\$\{[A-Z_]+:\?/);
    }
  });

  it('without the mesh key a gateway refuses to start (the mesh binds a wildcard: no open mesh), and a placeholder is no key', () => {
    for (const g of gateways) {
      const { DROVER_MESH_KEY: _omitted, ...env } = gatewayEnv(g);
      expect(() => loadConfig([], env), g).toThrow(/needs --mesh-key/);
      expect(() => loadConfig([], { ...env, DROVER_MESH_KEY: 'change-me' }), g).toThrow(/not a 32-byte key/);
    }
  });
  /** Container-side ports a service declares (`ports: ["host:container"]` and `expose`). */
  const containerPorts = (svc: any): number[] =>
    [...(svc.ports ?? []), ...(svc.expose ?? [])].map((p: unknown) => Number(String(p).split('/')[0].split(':').pop()));

  it('wires every gateway to the redis service on its port, once redis is healthy', () => {
    const redis = services.redis;
    expect(redis.healthcheck?.test.join(' ')).toContain('redis-cli');
    // The port redis listens on: `--port N` in its command, else the image's default.
    const cmd = (redis.command ?? []) as string[];
    const redisPort = cmd.includes('--port') ? Number(cmd[cmd.indexOf('--port') + 1]) : 6379;
    expect(containerPorts(redis)).toContain(redisPort);
    for (const g of gateways) {
      const env = gatewayEnv(g);
      expect(env.DROVER_REDIS_URL, `${g}: DROVER_REDIS_URL`).toBeTruthy();
      const url = new URL(env.DROVER_REDIS_URL);
      expect(url.protocol).toBe('redis:');
      expect(url.hostname, `${g}: redis host`).toBe('redis');
      expect(Number(url.port || 6379), `${g}: redis port`).toBe(redisPort);
      expect(loadConfig([], env).redisUrl).toBe(env.DROVER_REDIS_URL);
      expect(services[g].depends_on?.redis?.condition, `${g} waits for a healthy redis`).toBe('service_healthy');
    }
  });

  it("sends traces to the collector's OTLP/HTTP port", () => {
    const collector = services['otel-collector'];
    const config = parse(read('deploy/compose/otel-collector.yaml'));
    const receiverPort = Number(String(config.receivers.otlp.protocols.http.endpoint).split(':').pop());
    expect(config.service.pipelines.traces.receivers).toContain('otlp');
    expect(containerPorts(collector)).toContain(receiverPort);
    for (const g of gateways) {
      const env = gatewayEnv(g);
      const endpoint = env.DROVER_OTLP_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
      expect(endpoint, `${g}: OTLP endpoint`).toBeTruthy();
      const url = new URL(endpoint);
      expect(url.hostname, `${g}: OTLP host`).toBe('otel-collector');
      expect(Number(url.port || (url.protocol === 'https:' ? 443 : 80)), `${g}: OTLP port`).toBe(receiverPort);
      expect(services[g].depends_on).toHaveProperty('otel-collector');
    }
  });

  it("scrapes each gateway on its service name and DROVER_PORT (or DROVER_METRICS_PORT)", () => {
    const prom = parse(read('deploy/compose/prometheus.yml'));
    const targets: string[] = prom.scrape_configs.flatMap((c: any) => {
      expect(c.metrics_path ?? '/metrics').toBe('/metrics');
      return c.static_configs.flatMap((sc: any) => sc.targets as string[]);
    });
    const expected = gateways.map((g) => {
      const config = loadConfig([], gatewayEnv(g));
      return `${g}:${config.metricsPort > 0 ? config.metricsPort : config.port}`;
    });
    expect([...targets].sort()).toEqual(expected.sort());
    for (const g of gateways) expect(Number(gatewayEnv(g).DROVER_PORT), `${g}: DROVER_PORT`).toBe(loadConfig([], gatewayEnv(g)).port);
  });

  it('gives Prometheus a health check and every service resource limits', () => {
    expect(services.prometheus.healthcheck?.test.join(' ')).toContain('/-/healthy');
    for (const [name, svc] of Object.entries(services)) {
      expect(svc.deploy?.resources?.limits?.memory, `${name}: memory limit`).toBeTruthy();
      expect(svc.deploy?.resources?.limits?.cpus, `${name}: cpu limit`).toBeTruthy();
    }
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  it('is multi-stage, Debian-based, non-root, production deps only', () => {
    expect(text.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(text).not.toMatch(/alpine/i);
    expect(text).toMatch(/^USER node$/m);
    expect(text).toContain('npm ci --omit=dev');
    expect(text).toContain('COPY proto ./proto');
  });

  it('copies every directory the build compiles (a missing one silently drops its entry point from the image)', () => {
    const build = JSON.parse(read('tsconfig.build.json')) as { include: string[] };
    for (const dir of build.include) expect(text, dir).toContain(`COPY ${dir} ./${dir}`);
  });
});

describe('Kubernetes manifests', () => {
  const docs = ['deploy/k8s/gateway.yaml', 'deploy/k8s/config.yaml', 'deploy/k8s/mock-workers.yaml'].flatMap((f) =>
    parseAllDocuments(read(f)).map((d) => d.toJSON() as any),
  );
  const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);
  const sts = find('StatefulSet', 'drover');
  const pod = sts.spec.template;
  const container = pod.spec.containers[0];

  it('runs the gateway as a Parallel StatefulSet behind a headless Service', () => {
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    const headless = find('Service', sts.spec.serviceName);
    expect(headless.spec.clusterIP).toBe('None');
    expect(pod.metadata.labels).toMatchObject(headless.spec.selector);
    expect(pod.metadata.labels).toMatchObject(sts.spec.selector.matchLabels);
    const client = find('Service', 'drover');
    expect(pod.metadata.labels).toMatchObject(client.spec.selector);
  });

  it('probes readiness and liveness on the real endpoints', () => {
    expect(container.readinessProbe.httpGet.path).toBe('/readiness');
    expect(container.livenessProbe.httpGet.path).toBe('/health');
  });

  it('passes only flags and env vars the gateway accepts, and the config validates', () => {
    const args = (container.args as string[]).map((a) => a.replace('$(POD_NAMESPACE)', 'default'));
    const env: Record<string, string> = { DROVER_MESH_KEY: randomBytes(32).toString('base64'), DROVER_NODE_NAME: 'drover-0', DROVER_MESH_ADVERTISE: '10.0.0.5', DROVER_WORKER_URLS: 'grpc://w:1' };
    for (const e of container.env) if (e.name.startsWith('DROVER_')) expect(ENV_NAMES.has(e.name), e.name).toBe(true);
    const config = loadConfig(args, env);
    expect(config.mesh).toBe(true);
    expect(config.meshDiscovery).toBe('dns');
    expect(config.meshDns).toContain(sts.spec.serviceName);
    const port = (name: string) => container.ports.find((p: any) => p.name === name).containerPort;
    expect(port('http')).toBe(config.port);
    expect(port('mesh-udp')).toBe(config.meshPort);
    expect(port('mesh-sync')).toBe(config.meshSyncPort);
  });

  it('gives the pod longer than the three-phase shutdown, with a preStop hook', () => {
    const args = (container.args as string[]).map((a) => a.replace('$(POD_NAMESPACE)', 'default'));
    // The pod's own address comes from the downward API (a wildcard bind needs an advertise address).
    const config = loadConfig(args, { DROVER_MESH_ADVERTISE: '10.0.0.5', DROVER_MESH_KEY: randomBytes(32).toString('base64') });
    const preStopSleep = Number(container.lifecycle.preStop.exec.command[1]);
    expect(pod.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(preStopSleep * 1000 + config.shutdownDelayMs + config.shutdownGraceMs);
  });

  it('reads the mesh and admin keys from a Secret it does not ship (no default keys), and declares resources and scraping', () => {
    for (const name of ['DROVER_MESH_KEY', 'DROVER_ADMIN_KEY', 'DROVER_API_KEY']) {
      expect(container.env.find((e: any) => e.name === name).valueFrom.secretKeyRef.name, name).toBe('drover-secrets');
    }
    expect(docs.filter((d) => d.kind === 'Secret')).toEqual([]);
    for (const ref of container.env.filter((e: any) => e.valueFrom?.configMapKeyRef).map((e: any) => e.valueFrom.configMapKeyRef)) {
      expect(find('ConfigMap', ref.name).data).toHaveProperty(ref.key);
    }
    expect(container.resources.requests.cpu).toBeTruthy();
    expect(container.resources.limits.memory).toBeTruthy();
    expect(pod.metadata.annotations['prometheus.io/scrape']).toBe('true');
  });

  it('has a PodDisruptionBudget selecting the gateway pods', () => {
    const pdb = docs.find((d) => d.kind === 'PodDisruptionBudget');
    expect(pod.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
  });

  it('starts mock workers with flags the mock-worker CLI accepts', () => {
    const flags = mockWorkerFlags();
    const worker = find('StatefulSet', 'drover-mock-worker').spec.template.spec.containers[0];
    for (const arg of worker.args as string[]) if (arg.startsWith('--')) expect(flags.has(arg.slice(2)), arg).toBe(true);
  });
});
