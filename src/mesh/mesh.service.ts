import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { DEFAULT_SYNC_LIMITS, type RegistryChange } from '@drover/crdt-sync';
import { createMeshNode, DnsDiscovery, GrpcSyncTransport, HyperswarmDiscovery, meshTopics, resolveSeeds, type MeshNode, type MeshTlsOptions } from '@drover/mesh';
import { DroverError, type Clock, type Logger, type Metrics, type Rng, type TimerHandle, type Timers } from '@drover/runtime';
import { keyFingerprint, Keyring, lanConfig, localConfig, NodeIdentity, parseClusterKey, UdpTransport } from '@drover/swim';
import { AdmissionService } from '../admission/admission.service';
import { KeyStoreService } from '../auth/key-store.service';
import type { GatewayConfig } from '../config/options';
import { RoutingService } from '../routing/routing.service';
import { CLOCK, CONFIG, LOGGER, METRICS, RNG, TIMERS } from '../runtime/tokens';
import type { WorkerSpec } from '../workers/worker-record';
import { WorkerRegistryService } from '../workers/worker-registry.service';
import { CountingTransport } from './counting-transport';
import { ModelShardsAdapter, type ModelOp } from './model-shards';

export interface MemberSummary {
  name: string;
  state: string;
  incarnation: number;
  address: string;
  http?: string;
  syncLag?: number;
  lastContactMs?: number | null;
}

const LOAD_PUBLISH_MS = 50;
const SPEND_PREFIX = 'ratelimit:';
const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/**
 * This node's place in the mesh. With `--mesh`, it joins the other gateways (SWIM over UDP, state
 * sync over gRPC, both sealed with the cluster key) and shares: the worker registry (a POST
 * /workers on any node appears on all), every routing decision (so any node routes a follow-up
 * turn to the worker holding its prefix), per-worker in-flight load, and rate-limit spend.
 * Without it, the node is a mesh of one.
 */
@Injectable()
export class MeshService implements OnApplicationShutdown {
  private node: MeshNode<ModelOp> | undefined;
  private swimTransport: UdpTransport | undefined;
  private syncTransport: GrpcSyncTransport | undefined;
  private dns: DnsDiscovery | undefined;
  private hyperswarm: HyperswarmDiscovery | undefined;
  private keyring: Keyring | undefined;
  private loadTimer: TimerHandle | undefined;
  private readonly spendTotals = new Map<string, { requests: number; tokens: number }>();
  private readonly seenSpend = new Map<string, { requests: number; tokens: number }>();
  private meshLoadCache = new Map<string, { inFlight: number; queued: number }>();
  private httpUrl = '';

  constructor(
    @Inject(CONFIG) private readonly config: GatewayConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TIMERS) private readonly timers: Timers,
    @Inject(RNG) private readonly rng: Rng,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(METRICS) private readonly metrics: Metrics,
    @Inject(WorkerRegistryService) private readonly registry: WorkerRegistryService,
    @Inject(RoutingService) private readonly routing: RoutingService,
    @Inject(AdmissionService) private readonly admission: AdmissionService,
    @Inject(KeyStoreService) private readonly keys: KeyStoreService,
  ) {}

  get enabled(): boolean {
    return this.node !== undefined;
  }

  get nodeName(): string {
    return this.config.nodeName ?? `${this.advertiseHost()}:${this.config.mesh ? this.config.meshPort : this.config.port}`;
  }

  /** Mutual TLS for state sync when the PEM files are configured (validated at config load). */
  private meshTls(): MeshTlsOptions | undefined {
    const { meshTlsCa: ca, meshTlsCert: cert, meshTlsKey: key } = this.config;
    if (!ca || !cert || !key) return undefined;
    return { ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key), serverName: this.config.meshTlsServerName };
  }

  /** Joins the mesh once the HTTP server listens (peers learn its URL from SWIM metadata). */
  async start(httpUrl: string): Promise<void> {
    this.httpUrl = httpUrl;
    if (!this.config.mesh) return;
    const advertise = this.advertiseHost();
    const keyring = this.config.meshKey ? new Keyring([this.config.meshKey, ...this.config.meshKeyAccept].map(clusterKey)) : undefined;
    this.keyring = keyring;
    if (!keyring) {
      // Config validation let this through only on a loopback bind or with --mesh-insecure.
      const banner = `INSECURE: mesh traffic on ${this.config.meshBind} is not authenticated (no --mesh-key): anyone who reaches the mesh ports can join and forge state`;
      this.log.warn(banner);
      if (this.config.meshInsecure) process.stderr.write(`\n*** ${banner} ***\n\n`);
    }
    this.swimTransport = await UdpTransport.create({ bindHost: this.config.meshBind, bindPort: this.config.meshPort, advertiseHost: advertise, keyring, log: this.log, metrics: this.metrics });
    const identity = this.config.meshIdentity && this.config.meshIdentityAuthority ? NodeIdentity.fromCredential(this.config.meshIdentity, this.config.meshIdentityAuthority) : undefined;
    if (identity) this.log.info({ node: identity.name }, 'mesh node identities on: messages are signed and checked against their senders');
    const syncPort = this.config.meshSyncPort || (this.config.meshPort === 0 ? 0 : this.config.meshPort + 1);
    this.syncTransport = await GrpcSyncTransport.create({
      nodeName: this.nodeName,
      bindHost: this.config.meshBind,
      bindPort: syncPort,
      advertiseHost: advertise,
      keyring,
      identity,
      tls: this.meshTls(),
      maxFrameBytes: DEFAULT_SYNC_LIMITS.maxFrameBytes,
      log: this.log,
      metrics: this.metrics,
    });
    const adapter = new ModelShardsAdapter((m) => this.routing.shardsFor(m), () => this.routing.stats().map((s) => s.model));
    const swimConfig = (this.config.meshTimings === 'local' ? localConfig : lanConfig)(this.nodeName, { keyring, identity });
    this.node = createMeshNode<ModelOp>(
      { clock: this.clock, timers: this.timers, rng: this.rng.fork(`mesh:${this.nodeName}`), swimTransport: new CountingTransport(this.swimTransport, this.metrics), syncTransport: this.syncTransport, shard: adapter, log: this.log, metrics: this.metrics },
      { nodeName: this.nodeName, swim: swimConfig, httpUrl, version: '0.1.0' },
    );
    this.bridgeRegistry();
    this.routing.onRouteOp((model, op) => this.node?.appendRouteOp({ model, op }));
    this.routing.setMeshInFlight((id) => this.remoteInFlight(id));
    this.routing.setMeshAwaitingFirstToken((id) => this.remoteAwaitingFirstToken(id));
    this.admission.onSpend((s) => {
      const t = this.spendTotals.get(s.key) ?? { requests: 0, tokens: 0 };
      t.requests += s.requests;
      t.tokens += s.tokens;
      this.spendTotals.set(s.key, t);
    });
    this.node.onMemberEvent((e) => {
      this.log.info({ member: e.member.name, event: e.type, incarnation: e.member.incarnation }, 'mesh membership');
      this.publishMemberGauges();
    });
    this.node.start(await this.initialSeeds());
    this.loadTimer = this.timers.setInterval(() => this.exchangeLoad(), LOAD_PUBLISH_MS);
    this.log.info({ node: this.nodeName, swim: this.swimTransport.localAddress, sync: this.syncTransport.localAddress }, 'mesh started');
  }

  /** Graceful leave (shutdown phase 3): peers learn at once instead of suspecting us. */
  async leave(): Promise<void> {
    if (!this.node) return;
    this.timers.clearInterval(this.loadTimer);
    this.dns?.stop();
    await this.hyperswarm?.stop();
    await this.node.leave(300);
    await this.syncTransport?.close();
    this.swimTransport?.close();
    this.node = undefined;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.leave();
  }

  /** Installed cluster keys by fingerprint, the primary (sending) key first. */
  meshKeys(): { id: string; primary: boolean }[] {
    return this.requireKeyring()
      .fingerprints()
      .map((id, i) => ({ id, primary: i === 0 }));
  }

  /** Rotation step 1: accept a new key (sending still uses the primary). */
  installMeshKey(text: string): { id: string; primary: boolean } {
    const ring = this.requireKeyring();
    const parsed = parseClusterKey(text);
    if (!parsed.ok) throw new DroverError('invalid_request', `The key ${parsed.problem}.`, { param: 'key' });
    ring.addKey(parsed.key);
    const id = keyFingerprint(parsed.key);
    this.log.info({ key: id, installed: ring.fingerprints() }, 'mesh key installed');
    return { id, primary: ring.fingerprints()[0] === id };
  }

  /** Rotation step 2: send with an installed key (do this once every node has installed it). */
  useMeshKey(id: string): { id: string; primary: boolean } {
    const ring = this.requireKeyring();
    ring.useKey(this.installedKey(ring, id));
    this.log.info({ key: id, installed: ring.fingerprints() }, 'mesh key now primary');
    return { id, primary: true };
  }

  /** Rotation step 3: stop accepting a key (do this once every node sends with the new one). */
  retireMeshKey(id: string): { id: string; deleted: true } {
    const ring = this.requireKeyring();
    if (ring.fingerprints()[0] === id) throw new DroverError('conflict', 'The primary mesh key cannot be retired: make another key primary first.', { param: 'id' });
    ring.removeKey(this.installedKey(ring, id));
    this.log.info({ key: id, installed: ring.fingerprints() }, 'mesh key retired');
    return { id, deleted: true };
  }

  private requireKeyring(): Keyring {
    if (!this.keyring) throw new DroverError('conflict', 'This node runs no keyed mesh (--mesh with --mesh-key).');
    return this.keyring;
  }

  private installedKey(ring: Keyring, id: string): Buffer {
    const key = ring.keyById(id);
    if (!key) throw DroverError.notFound(`No installed mesh key has the id '${id}'.`, 'id');
    return key;
  }

  memberSummaries(): MemberSummary[] {
    if (!this.node) return [{ name: this.nodeName, state: 'alive', incarnation: 0, address: `${this.config.host}:${this.config.port}`, http: this.httpUrl }];
    const stats = this.node.sync.stats();
    return this.node.members().map((m) => ({
      name: m.name,
      state: m.state,
      incarnation: m.incarnation,
      address: m.address,
      http: m.http,
      syncLag: stats.peers[m.name]?.lag,
      lastContactMs: stats.peers[m.name]?.lastContactMs === undefined ? null : this.clock.now() - stats.peers[m.name].lastContactMs!,
    }));
  }

  /** What every node reports of a worker's health and circuit (empty with the mesh off). */
  healthVerdicts(workerId: string): Record<string, { health: string; circuit: string }> {
    const out: Record<string, { health: string; circuit: string }> = {};
    if (!this.node) return out;
    for (const [, v] of this.node.registry.healthVerdicts<Record<string, string>>()) {
      if (v && v.worker === workerId) out[v.node] = { health: v.health, circuit: v.circuit };
    }
    return out;
  }

  /** In-flight requests on a worker across the whole mesh (null with the mesh off). */
  meshInFlight(workerId: string): number | null {
    return this.node ? (this.meshLoadCache.get(workerId)?.inFlight ?? 0) : null;
  }

  /** Of those, the ones still awaiting their first token, across the whole mesh (null with the mesh off). */
  meshAwaitingFirstToken(workerId: string): number | null {
    return this.node ? (this.meshLoadCache.get(workerId)?.queued ?? 0) : null;
  }

  status(): Record<string, unknown> {
    if (!this.node) return { enabled: false, node: this.nodeName, members: this.memberSummaries() };
    const s = this.node.status();
    return {
      enabled: true,
      node: this.nodeName,
      members: this.memberSummaries(),
      peers: s.sync.peers,
      shard_versions: s.sync.shardVersions,
      registry: { ...s.sync.registry, workers: this.node.registry.workers().size },
      routing: this.routing.stats(),
      bytes: { in: s.sync.bytesIn, out: s.sync.bytesOut },
      dropped: s.sync.dropped,
      anti_entropy: s.sync.antiEntropy,
      digest: s.digest,
    };
  }

  private advertiseHost(): string {
    const host = this.config.meshAdvertise ?? this.config.meshBind;
    if (this.config.mesh && WILDCARDS.has(host)) throw new Error('--mesh-bind is a wildcard: set --mesh-advertise to an address peers can reach');
    return host;
  }

  private async initialSeeds(): Promise<string[]> {
    if (this.config.meshDiscovery === 'dns') {
      if (!this.config.meshDns) throw new Error('--mesh-discovery dns needs --mesh-dns NAME');
      this.dns = new DnsDiscovery(this.config.meshDns, this.config.meshPort, this.config.meshDnsIntervalMs, this.timers, (s) => this.node?.addSeeds(s), this.log);
      return this.dns.start();
    }
    if (this.config.meshDiscovery === 'hyperswarm') {
      if (!this.keyring) throw new Error('--mesh-discovery hyperswarm needs --mesh-key (the topic is derived from it)');
      this.hyperswarm = new HyperswarmDiscovery({
        topics: meshTopics(this.keyring),
        meshAddress: this.swimTransport!.localAddress,
        bootstrap: this.config.meshHyperswarmBootstrap,
        onSeeds: (s) => this.node?.addSeeds(s),
        log: this.log,
      });
      await this.hyperswarm.start();
      return resolveSeeds(this.config.meshSeeds);
    }
    return resolveSeeds(this.config.meshSeeds);
  }

  /** Local API/config changes go into the shared document; remote changes into the local registry. */
  private bridgeRegistry(): void {
    const doc = this.node!.registry;
    const toDoc = (spec: WorkerSpec) => JSON.parse(JSON.stringify({ url: spec.url, model: spec.model ?? null, protocol: spec.protocol ?? null, labels: spec.labels ?? {}, disabled: spec.disabled ?? false, role: spec.role ?? 'regular', bootstrapPort: spec.bootstrapPort ?? null }));
    for (const w of this.registry.list()) doc.upsertWorker(w.id, toDoc(w.spec));
    this.registry.onChange((e) => {
      if (e.origin !== 'api' && e.origin !== 'config') return;
      if (e.type === 'removed') doc.removeWorker(e.worker.id);
      else doc.upsertWorker(e.worker.id, toDoc(e.worker.spec));
    });
    // Per-model routing policies: local changes out, remote changes in.
    this.routing.onPolicyChange((model, settings) => doc.setPolicy(model, JSON.parse(JSON.stringify(settings))));
    for (const [model, settings] of doc.policies()) this.routing.setModelPolicy(model, settings as never, false);
    // Health verdicts: each node publishes what it sees of each worker (operators see them all).
    this.registry.onChange((e) => {
      if (e.type !== 'removed') doc.setHealth(`${e.worker.id}@${this.nodeName}`, { worker: e.worker.id, node: this.nodeName, health: e.worker.health, circuit: e.worker.circuit.state });
    });
    // Client API keys (hashes and limits): created, rotated or revoked on any node, valid on all.
    for (const [id, record] of this.keys.list()) doc.set('keys', id, JSON.parse(JSON.stringify(record)));
    this.keys.onLocalChange((id, record) => doc.set('keys', id, JSON.parse(JSON.stringify(record))));
    for (const [id, record] of doc.entries('keys')) this.keys.applyRemote(id, record);
    doc.onChange((c: RegistryChange) => {
      if (!c.local && c.map === 'keys' && c.value) this.keys.applyRemote(c.id, c.value);
      if (!c.local && c.map === 'policies' && c.value) this.routing.setModelPolicy(c.id, c.value as never, false);
      if (c.local || c.map !== 'workers') return;
      void this.applyRemote(c.id, c.value as Record<string, unknown> | undefined).catch((err) =>
        this.log.warn({ worker: c.id, err: (err as Error).message }, 'could not apply a mesh registry change'),
      );
    });
  }

  private async applyRemote(id: string, value: Record<string, unknown> | undefined): Promise<void> {
    const existing = this.registry.find(id);
    if (!value) {
      if (existing) await this.registry.remove(id, 'mesh');
      return;
    }
    const spec: WorkerSpec = {
      url: String(value.url),
      model: typeof value.model === 'string' ? value.model : undefined,
      protocol: (value.protocol as WorkerSpec['protocol']) ?? undefined,
      labels: (value.labels as Record<string, string>) ?? {},
      disabled: value.disabled === true,
      // Entries from nodes that predate roles have none: regular.
      role: value.role === 'prefill' || value.role === 'decode' ? value.role : undefined,
      bootstrapPort: typeof value.bootstrapPort === 'number' ? value.bootstrapPort : undefined,
    };
    if (existing) await this.registry.update(id, spec, true, 'mesh');
    else await this.registry.add(spec, 'mesh');
  }

  /** Publishes this node's in-flight per worker and rate-limit spend; reads the mesh's. */
  private exchangeLoad(): void {
    const node = this.node;
    if (!node) return;
    // `queued`: this node's requests on the worker still awaiting their first token (in prefill).
    for (const w of this.registry.list()) node.setLocalLoad(w.id, { inFlight: w.inFlight, queued: w.awaitingFirstToken });
    for (const [key, t] of this.spendTotals) node.setLocalLoad(`${SPEND_PREFIX}${key}`, { inFlight: t.requests, queued: t.tokens });
    this.meshLoadCache = node.meshLoad();
    // Spend rides the load channel as cumulative per-key counters; charge the growth we had not seen.
    for (const [origin, table] of node.sync.loadByOrigin()) {
      if (origin === this.nodeName) continue;
      for (const [entry, load] of table) {
        if (!entry.startsWith(SPEND_PREFIX)) continue;
        const k = `${origin}|${entry}`;
        const seen = this.seenSpend.get(k) ?? { requests: 0, tokens: 0 };
        const dr = load.inFlight - seen.requests;
        const dt = load.queued - seen.tokens;
        if (dr > 0 || dt > 0) this.admission.applyRemoteSpend({ key: entry.slice(SPEND_PREFIX.length), requests: Math.max(0, dr), tokens: Math.max(0, dt) });
        this.seenSpend.set(k, { requests: load.inFlight, tokens: load.queued });
      }
    }
    const s = node.sync.stats();
    for (const [peer, p] of Object.entries(s.peers)) this.metrics.set('drover_mesh_sync_lag_ops', p.lag, { peer });
    for (const [origin, v] of Object.entries(s.shardVersions)) this.metrics.set('drover_mesh_shard_version', v.seq, { origin });
  }

  private remoteInFlight(workerId: string): number {
    const total = this.meshLoadCache.get(workerId)?.inFlight ?? 0;
    const local = this.registry.find(workerId)?.inFlight ?? 0;
    return Math.max(0, total - local);
  }

  private remoteAwaitingFirstToken(workerId: string): number {
    const total = this.meshLoadCache.get(workerId)?.queued ?? 0;
    const local = this.registry.find(workerId)?.awaitingFirstToken ?? 0;
    return Math.max(0, total - local);
  }

  private publishMemberGauges(): void {
    if (!this.node) return;
    const counts = new Map<string, number>();
    for (const m of this.node.members()) counts.set(m.state, (counts.get(m.state) ?? 0) + 1);
    for (const state of ['alive', 'suspect', 'dead', 'left']) this.metrics.set('drover_mesh_members', counts.get(state) ?? 0, { state });
  }
}

/** The configured key, already validated by loadConfig (a bad one never gets here). */
function clusterKey(text: string): Buffer {
  const parsed = parseClusterKey(text);
  if (!parsed.ok) throw new Error(`--mesh-key ${parsed.problem}`);
  return parsed.key;
}
