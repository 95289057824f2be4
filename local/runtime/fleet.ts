import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ArtifactIntegrityError } from '../../lambdas/lib/errors.js';
import { sha256Hex } from '../../lambdas/lib/manifest.js';
import { systemClock, type CanaryWeightRequest, type Clock, type DeployRequest, type DeployResult, type DeployTarget, type ObjectStore, type ReuseRequest, type StagedVersion } from '../../lambdas/lib/ports.js';

/**
 * The local service fleet: each service+environment is an HTTP server on loopback. It serves
 * the live version, and during a canary a weighted router sends each request to the canary
 * with the configured probability. A version is the promoted build's entry module, exporting
 * `fetch(request, env)` (the web-standard handler shape), loaded from the promoted bytes.
 * Every request is counted per version (status, latency) so canary analysis judges real numbers.
 */

/**
 * What a version's handler gets beside the request. `count(name, n = 1)` adds to a custom
 * metric of this request (config `canary.customMetrics`), as a Lambda version would publish it
 * to CloudWatch with its version as a dimension.
 */
export interface ServiceEnv {
  service: string;
  environment: string;
  version: string;
  /**
   * The configuration variables this version runs with: a config-only release's `env`, {} for a
   * code build. Per version, not `process.env`: versions of one fleet share a process.
   */
  vars: Readonly<Record<string, string>>;
  count(name: string, n?: number): void;
}

type FetchHandler = (request: Request, env: ServiceEnv) => Response | Promise<Response>;

interface Loaded {
  version: string;
  handler: FetchHandler;
  record: VersionRecord;
}

interface VersionRecord {
  version: string;
  /** Relative to the data folder in fleet.json (a moved folder still works); absolute in memory. */
  dir: string;
  entry: string;
  sha256: string;
  /** A config release's variables (ServiceEnv.vars). */
  env?: Record<string, string>;
}

export interface RequestSample {
  at: number;
  version: string;
  status: number;
  latencyMs: number;
  /** Custom metrics the handler counted for this request. */
  custom?: Record<string, number>;
}

interface Slot {
  live?: Loaded;
  canary?: Loaded & { weight: number };
  /** A version loaded for pre-traffic checks on its own server, taking none of the environment's traffic. */
  staged?: Loaded & { server: Server; endpoint: string };
  /** When traffic last moved (ms since epoch, high resolution), for measuring rollbacks. */
  switchedAt?: number;
  server?: Server;
  endpoint?: string;
  samples: RequestSample[];
}

interface FleetState {
  live: VersionRecord;
  canary?: VersionRecord & { weight: number };
}

/** Samples kept per environment: enough for an hour of a busy local canary. */
const MAX_SAMPLES = 500_000;

export class LocalFleet implements DeployTarget {
  private readonly slots = new Map<string, Slot>();
  private readonly statePath: string;

  constructor(
    private readonly dataDir: string,
    private readonly store: ObjectStore,
    private readonly random: () => number = Math.random,
    // The runtime's clock, which the judge's windows are read on: a request is stamped with the
    // time the judge will compare, never with a second clock that may drift from it.
    private readonly clock: Pick<Clock, 'now'> = systemClock,
  ) {
    this.statePath = join(dataDir, 'fleet.json');
  }

  /** fleet.json, or a FleetStateDamaged naming it: a damaged file is never taken for "nothing deployed". */
  private readState(): Record<string, FleetState> {
    if (!existsSync(this.statePath)) return {};
    let state: unknown;
    try {
      state = JSON.parse(readFileSync(this.statePath, 'utf8'));
    } catch (err) {
      throw new FleetStateDamaged(this.statePath, (err as Error).message);
    }
    if (state === null || typeof state !== 'object' || Array.isArray(state)) throw new FleetStateDamaged(this.statePath, 'expected a JSON object');
    for (const [key, rec] of Object.entries(state as Record<string, FleetState>)) {
      const ok = (v: VersionRecord | undefined) => v && typeof v.version === 'string' && typeof v.dir === 'string' && typeof v.entry === 'string' && typeof v.sha256 === 'string';
      if (!ok(rec?.live) || (rec.canary !== undefined && !(ok(rec.canary) && typeof rec.canary.weight === 'number'))) throw new FleetStateDamaged(this.statePath, `entry ${JSON.stringify(key)} is not a version record`);
    }
    return state as Record<string, FleetState>;
  }

  /** Written to a temporary file and renamed over fleet.json, so a crash leaves the old state or the new one, never half of one. */
  private writeState(key: string, slot: Slot): void {
    let state: Record<string, FleetState>;
    try {
      state = this.readState();
    } catch (err) {
      if (!(err instanceof FleetStateDamaged)) throw err;
      // A deploy or rollback establishes a known state again; the damaged file is kept beside it for a person to look at.
      renameSync(this.statePath, `${this.statePath}.damaged`);
      state = {};
    }
    const stored = (r: VersionRecord): VersionRecord => ({ ...r, dir: relative(this.dataDir, r.dir) });
    if (slot.live) state[key] = { live: stored(slot.live.record), ...(slot.canary ? { canary: { ...stored(slot.canary.record), weight: slot.canary.weight } } : {}) };
    const tmp = `${this.statePath}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 2));
    renameSync(tmp, this.statePath);
  }

  /** What each environment served when this data folder was last used, loaded again. */
  async restore(): Promise<void> {
    // Paths were absolute before fleet.json stored them relative to the data folder.
    const here = (r: VersionRecord): VersionRecord => ({ ...r, dir: isAbsolute(r.dir) ? r.dir : join(this.dataDir, r.dir) });
    for (const [key, rec] of Object.entries(this.readState())) {
      const slot = this.slot(key);
      slot.live = await load(here(rec.live));
      if (rec.canary) slot.canary = { ...(await load(here(rec.canary))), weight: rec.canary.weight };
    }
  }

  version(service: string, environment: string): string | undefined {
    return this.slots.get(`${service}/${environment}`)?.live?.version;
  }

  canary(service: string, environment: string): { version: string; weight: number } | undefined {
    const c = this.slots.get(`${service}/${environment}`)?.canary;
    return c ? { version: c.version, weight: c.weight } : undefined;
  }

  lastSwitch(service: string, environment: string): { version?: string; at?: number } {
    const slot = this.slots.get(`${service}/${environment}`);
    return { ...(slot?.live ? { version: slot.live.version } : {}), ...(slot?.switchedAt ? { at: slot.switchedAt } : {}) };
  }

  /** Requests served by an environment between two times (ms since epoch). */
  samples(service: string, environment: string, since: number, until: number): RequestSample[] {
    return (this.slots.get(`${service}/${environment}`)?.samples ?? []).filter((s) => s.at >= since && s.at <= until);
  }

  async endpoint(service: string, environment: string): Promise<string> {
    const slot = this.slot(`${service}/${environment}`);
    if (slot.endpoint) return slot.endpoint;
    const server = createServer((req, res) => void this.serve(service, environment, slot, req, res));
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    slot.server = server;
    slot.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return slot.endpoint;
  }

  /**
   * Loads the new version (its entry module runs, so one that throws on load fails here) and
   * serves it alone on its own loopback port, apart from the environment's endpoint: the
   * pre-traffic checks call it there while the live version keeps every request.
   */
  async stage(req: DeployRequest): Promise<StagedVersion> {
    const slot = this.slot(`${req.service}/${req.environment}`);
    await this.dropStaged(slot);
    const loaded = await this.fetchVersion(req);
    const server = createServer((r, res) => void respond(loaded, req.service, req.environment, r, res));
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    slot.staged = { ...loaded, server, endpoint };
    return { ref: req.version, endpoint };
  }

  async discard(req: ReuseRequest): Promise<void> {
    const slot = this.slot(`${req.service}/${req.environment}`);
    if (slot.staged?.version === req.ref) await this.dropStaged(slot);
  }

  /** The staged version when traffic moves to it (its own server stops), or the build loaded now. */
  private async takeStaged(req: DeployRequest, slot: Slot): Promise<Loaded> {
    const staged = slot.staged;
    if (req.staged === undefined || staged?.version !== req.staged) return this.fetchVersion(req);
    await this.dropStaged(slot);
    return { version: staged.version, handler: staged.handler, record: staged.record };
  }

  private async dropStaged(slot: Slot): Promise<void> {
    const staged = slot.staged;
    if (!staged) return;
    delete slot.staged;
    await closeServer(staged.server);
  }

  async deploy(req: DeployRequest): Promise<DeployResult> {
    const key = `${req.service}/${req.environment}`;
    const slot = this.slot(key);
    const previousVersion = slot.live?.version;
    slot.live = await this.takeStaged(req, slot);
    delete slot.canary;
    slot.switchedAt = this.clock.now().getTime();
    this.writeState(key, slot);
    return { ref: req.version, ...(previousVersion ? { previousVersion } : {}) };
  }

  async startCanary(req: DeployRequest, weightPercent: number): Promise<DeployResult & { baselineRef?: string }> {
    const key = `${req.service}/${req.environment}`;
    const slot = this.slot(key);
    if (!slot.live) return this.deploy(req); // nothing live: no baseline to compare with
    slot.canary = { ...(await this.takeStaged(req, slot)), weight: checkWeight(weightPercent) };
    this.writeState(key, slot);
    return { ref: req.version, baselineRef: slot.live.version, previousVersion: slot.live.version };
  }

  async setCanaryWeight(req: CanaryWeightRequest, weightPercent: number): Promise<void> {
    const key = `${req.service}/${req.environment}`;
    const slot = this.slot(key);
    if (!slot.canary || slot.canary.version !== req.canary.version) throw new Error(`no canary of ${req.canary.version} in ${req.environment} of ${req.service}`);
    const weight = checkWeight(weightPercent);
    if (weight === 100) {
      slot.live = slot.canary;
      delete slot.canary;
      slot.switchedAt = this.clock.now().getTime();
    } else if (weight === 0) {
      // No share of traffic: the canary is gone (the reconciler's removal of a dead release's canary).
      delete slot.canary;
      slot.switchedAt = this.clock.now().getTime();
    } else slot.canary.weight = weight;
    this.writeState(key, slot);
  }

  async close(): Promise<void> {
    await Promise.all([...this.slots.values()].flatMap((s) => [s.server ? closeServer(s.server) : undefined, this.dropStaged(s)]));
    for (const s of this.slots.values()) {
      delete s.server;
      delete s.endpoint;
    }
  }

  private slot(key: string): Slot {
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = { samples: [] }));
    return slot;
  }

  /** Copies a promoted version's files out of the store (checking each SHA-256) and loads its entry module. */
  private async fetchVersion(req: DeployRequest): Promise<Loaded> {
    const entry = req.artifact.entry;
    if (!entry) throw new Error(`the build of ${req.service} ${req.version} names no entry module; the local target needs "entry" in the manifest`);
    const dir = join(this.dataDir, 'fleet', req.service, req.environment, req.version);
    let entrySha = '';
    for (const file of req.artifact.files) {
      const key = `${req.location.prefix}files/${file.path}`;
      const bytes = await this.store.get({ bucket: req.location.bucket, key });
      if (!bytes) throw new ArtifactIntegrityError(`promoted file s3://${req.location.bucket}/${key} is missing`);
      const actual = sha256Hex(bytes);
      if (actual !== file.sha256) throw new ArtifactIntegrityError(`promoted file ${file.path} changed since promotion (SHA-256 ${actual})`);
      const path = join(dir, file.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, bytes);
      if (file.path === entry) entrySha = file.sha256;
    }
    const env = req.artifact.config?.env;
    return load({ version: req.version, dir, entry, sha256: entrySha, ...(env ? { env } : {}) });
  }

  private async serve(service: string, environment: string, slot: Slot, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = this.clock.now().getTime();
    const started = performance.now();
    const target = slot.canary && this.random() * 100 < slot.canary.weight ? slot.canary : slot.live;
    if (!target) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end(`nothing is deployed to ${service} ${environment}`);
      return;
    }
    const { status, custom } = await respond(target, service, environment, req, res);
    slot.samples.push({ at, version: target.version, status, latencyMs: performance.now() - started, ...(custom ? { custom } : {}) });
    if (slot.samples.length > MAX_SAMPLES) slot.samples.splice(0, slot.samples.length - MAX_SAMPLES);
  }
}

/** One request to one loaded version: the web-standard handler's answer, or 500 when it throws. */
async function respond(target: Loaded, service: string, environment: string, req: IncomingMessage, res: ServerResponse): Promise<{ status: number; custom?: Record<string, number> }> {
  let custom: Record<string, number> | undefined;
  const count = (name: string, n = 1) => {
    if (!Number.isFinite(n) || n < 0) throw new Error(`count(${JSON.stringify(name)}, ${n}): the count must be a finite number ≥ 0`);
    custom ??= {};
    custom[name] = (custom[name] ?? 0) + n;
  };
  try {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length && req.method !== 'GET' && req.method !== 'HEAD' ? Buffer.concat(chunks) : undefined;
    const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers: Object.entries(req.headers).flatMap(([k, v]) => (v === undefined ? [] : Array.isArray(v) ? v.map((x) => [k, x] as [string, string]) : [[k, v] as [string, string]])),
      ...(body ? { body } : {}),
    });
    const response = await target.handler(request, { service, environment, version: target.version, vars: { ...target.record.env }, count });
    const headers: Record<string, string> = { 'x-tagflow-version': target.version };
    response.headers.forEach((value, name) => (headers[name] = value));
    res.writeHead(response.status, headers);
    res.end(Buffer.from(await response.arrayBuffer()));
    return { status: response.status, ...(custom ? { custom } : {}) };
  } catch (err) {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`the service threw: ${(err as Error).message}`);
    return { status: 500, ...(custom ? { custom } : {}) };
  }
}

/** fleet.json cannot be read: what served is unknown, so nothing may deploy over it until a person looks. */
export class FleetStateDamaged extends Error {
  override readonly name = 'FleetStateDamaged';
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`the local fleet's state ${path} is damaged (${why}): the local services serve nothing until the next release or rollback into them, which moves the file to ${path}.damaged; status and history still work from the ledger`);
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
}

function checkWeight(weight: number): number {
  if (!Number.isFinite(weight) || weight < 0 || weight > 100) throw new Error(`canary weight must be 0–100 percent, got ${weight}`);
  return weight;
}

async function load(record: VersionRecord): Promise<Loaded> {
  const path = join(record.dir, record.entry);
  const mod = (await import(`${pathToFileURL(path).href}?sha256=${record.sha256}`)) as { fetch?: FetchHandler; default?: { fetch?: FetchHandler } };
  const handler = mod.fetch ?? mod.default?.fetch;
  if (typeof handler !== 'function') throw new Error(`${path} exports no fetch(request) handler`);
  return { version: record.version, handler, record };
}
