import 'reflect-metadata';
import type { FastifyBaseLogger } from 'fastify';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServer, type Server } from 'node:http';
import { LogController } from 'fastify';
import pino from 'pino';
import { AppModule } from './app.module';
import { installHttpMetrics } from './observability/http-metrics';
import { installRequestTracing } from './observability/request-tracing';
import { startTracing, stopTracing } from './observability/tracing';
import { PrometheusMetrics } from './observability/prometheus-metrics';
import type { GatewayConfig } from './config/options';
import { AdmissionService } from './admission/admission.service';
import { LifecycleService } from './lifecycle/lifecycle.service';
import { MeshService } from './mesh/mesh.service';
import { checkAuthConfig, NO_AUTH_BANNER } from './auth/auth-config';
import { installAuth } from './auth/auth-hook';
import { KeyStoreService } from './auth/key-store.service';
import { credentialOf } from './auth/api-key';
import { installRequestIds, newRequestId } from './api/request-ids';
import { clientPortOptions } from './http/client-port';
import { installBodyDepthLimit } from './http/body-depth';

export interface RunningGateway {
  app: NestFastifyApplication;
  url: string;
  port: number;
  /** Three-phase shutdown: stop being ready, drain in-flight (bounded by the grace period), close. */
  shutdown(graceMs?: number): Promise<void>;
}

/** Builds and starts one gateway node. Used by main.ts and by in-process e2e tests. */
export async function startGateway(config: GatewayConfig): Promise<RunningGateway> {
  checkAuthConfig(config);
  if (!config.auth) process.stderr.write(`${NO_AUTH_BANNER}\n`);
  startTracing(config.otlpEndpoint, 'drover-gateway');
  const logs = bufferedStdout();
  const logger = pino({ level: config.logLevel, base: { service: 'drover-gateway' } }, logs.destination);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // One line per request comes from the inference path; Fastify's own per-request lines are off.
    logController: new LogController({ disableRequestLogging: true }),
    // Nothing logs through req.log (our lines carry requestId themselves): no pino child per request.
    childLoggerFactory: (parent: FastifyBaseLogger) => parent,
    ...clientPortOptions(config),
    // Always the gateway's own random id; a client's x-request-id is only a label (request-ids.ts).
    genReqId: newRequestId,
  });
  const metrics = new PrometheusMetrics();
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, logger, metrics), adapter, {
    logger: ['error', 'warn'],
    abortOnError: false,
    // JSON bodies keep their bytes (req.rawBody) next to the parsed value: the HTTP proxy forwards
    // them as received instead of re-serialising. Free: Nest's parser reads a Buffer either way.
    rawBody: true,
  });
  const fastify = app.getHttpAdapter().getInstance();
  installRequestIds(fastify);
  installBodyDepthLimit(fastify);
  const keys = app.get(KeyStoreService);
  installAuth(fastify, keys, config, logger);
  installHttpMetrics(fastify, metrics);
  installRequestTracing(fastify);
  await app.listen(config.port, config.host);
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  // Optionally /metrics on its own port, so scraping can be firewalled apart from client traffic.
  const metricsServer = config.metricsPort > 0 ? await serveMetrics(metrics, config.host, config.metricsPort, config.auth && config.metricsAuth ? keys : undefined) : undefined;
  const mesh = app.get(MeshService);
  const publicHost = ['0.0.0.0', '::'].includes(config.host) ? (config.meshAdvertise ?? '127.0.0.1') : config.host;
  await mesh.start(`http://${publicHost.includes(':') ? `[${publicHost}]` : publicHost}:${port}`);
  logger.info({ url, policy: config.policy, node: mesh.nodeName, mesh: mesh.enabled }, 'gateway listening');

  let closing: Promise<void> | undefined;
  const shutdown = (graceMs = config.shutdownGraceMs): Promise<void> => {
    closing ??= (async () => {
      const lifecycle = app.get(LifecycleService);
      const admission = app.get(AdmissionService);
      // Phase 1: readiness turns 503 so load balancers stop sending; keep serving meanwhile.
      lifecycle.startDraining();
      logger.info({ delayMs: config.shutdownDelayMs, graceMs }, 'draining');
      if (config.shutdownDelayMs > 0) await sleep(config.shutdownDelayMs);
      // Phase 2: refuse new inference requests, let in-flight ones finish within the grace period.
      lifecycle.startClosing();
      const deadline = Date.now() + graceMs;
      while (admission.inFlight + admission.queued > 0 && Date.now() < deadline) await sleep(25);
      if (admission.inFlight > 0) logger.warn({ inFlight: admission.inFlight }, 'grace period over; closing with requests in flight');
      // Phase 3: tear down (mesh leave, worker channels, HTTP server).
      await mesh.leave();
      metricsServer?.close();
      await app.close();
      await stopTracing();
      logger.info('gateway stopped');
      logs.close();
    })();
    return closing;
  };
  return { app, url, port, shutdown };
}

/** `adminKeys`: with --metrics-auth, the metrics listener wants the admin key too. */
function serveMetrics(metrics: PrometheusMetrics, host: string, port: number, adminKeys?: KeyStoreService): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    if (adminKeys) {
      const token = credentialOf(req.headers);
      const principal = token === undefined ? undefined : adminKeys.authenticate(token);
      if (!principal?.admin) return void res.writeHead(principal ? 403 : 401, { 'www-authenticate': 'Bearer' }).end();
    }
    void metrics.scrape().then((text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text));
  });
  return new Promise((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve(server)));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * stdout for the logs, written off the event loop and in blocks (at 4 KiB or every 100 ms) instead
 * of one synchronous write per line: a line per request was one syscall on the request path.
 * Flushed at shutdown and on process exit, so nothing logged before a clean exit is lost.
 */
function bufferedStdout(): { destination: ReturnType<typeof pino.destination>; close(): void } {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  const timer = setInterval(() => destination.flush(), 100);
  timer.unref();
  if (!exitHooked) {
    exitHooked = true;
    process.once('exit', flushOpenLogs); // one hook per process, however many gateways it starts
  }
  openLogs.add(destination);
  return {
    destination,
    close() {
      clearInterval(timer);
      flushSync(destination);
      openLogs.delete(destination);
    },
  };
}

const openLogs = new Set<ReturnType<typeof pino.destination>>();
let exitHooked = false;

function flushOpenLogs(): void {
  for (const d of openLogs) flushSync(d);
}

function flushSync(destination: ReturnType<typeof pino.destination>): void {
  try {
    destination.flushSync();
  } catch {
    // a write still in flight: it completes on its own
  }
}
