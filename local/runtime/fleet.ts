import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ArtifactIntegrityError } from '../../lambdas/lib/errors.js';
import { digest } from '../../lambdas/lib/manifest.js';
import type { DeployRequest, DeployResult, DeployTarget, ObjectStore } from '../../lambdas/lib/ports.js';

/**
 * The local service fleet: each service+environment is an HTTP server on loopback that serves
 * the version deployed to it. A version is the promoted artifact's entry module, exporting
 * `fetch(request, env)` (the web-standard handler shape), loaded from the bytes promotion copied.
 */

type FetchHandler = (request: Request, env: { service: string; environment: string; version: string }) => Response | Promise<Response>;

interface Slot {
  /** When traffic last moved to `version` (ms, high resolution), for measuring rollbacks. */
  switchedAt?: number;
  server?: Server;
  endpoint?: string;
  version?: string;
  handler?: FetchHandler;
}

interface FleetRecord {
  version: string;
  dir: string;
  entry: string;
  sha256: string;
}

export class LocalFleet implements DeployTarget {
  private readonly slots = new Map<string, Slot>();
  private readonly statePath: string;

  constructor(
    private readonly dataDir: string,
    private readonly store: ObjectStore,
  ) {
    this.statePath = join(dataDir, 'fleet.json');
  }

  private readState(): Record<string, FleetRecord> {
    return existsSync(this.statePath) ? (JSON.parse(readFileSync(this.statePath, 'utf8')) as Record<string, FleetRecord>) : {};
  }

  /** What each environment served when this data folder was last used, loaded again. */
  async restore(): Promise<void> {
    for (const [key, rec] of Object.entries(this.readState())) {
      const slot = this.slot(key);
      slot.version = rec.version;
      slot.handler = await load(join(rec.dir, rec.entry), rec.sha256);
    }
  }

  version(service: string, environment: string): string | undefined {
    return this.slots.get(`${service}/${environment}`)?.version;
  }

  lastSwitch(service: string, environment: string): { version?: string; at?: number } {
    const slot = this.slots.get(`${service}/${environment}`);
    return { ...(slot?.version ? { version: slot.version } : {}), ...(slot?.switchedAt ? { at: slot.switchedAt } : {}) };
  }

  async endpoint(service: string, environment: string): Promise<string> {
    const key = `${service}/${environment}`;
    const slot = this.slot(key);
    if (slot.endpoint) return slot.endpoint;
    const server = createServer((req, res) => void this.serve(service, environment, slot, req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    slot.server = server;
    slot.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return slot.endpoint;
  }

  async deploy(req: DeployRequest): Promise<DeployResult> {
    const entry = req.artifact.entry;
    if (!entry) throw new Error(`the build of ${req.service} ${req.version} names no entry module; the local target needs "entry" in the manifest`);
    const dir = join(this.dataDir, 'fleet', req.service, req.environment, req.version);
    let entrySha = '';
    for (const file of req.artifact.files) {
      const key = `${req.location.prefix}files/${file.path}`;
      const bytes = await this.store.get({ bucket: req.location.bucket, key });
      if (!bytes) throw new ArtifactIntegrityError(`promoted file s3://${req.location.bucket}/${key} is missing`);
      const actual = await digest((async function* () { yield bytes; })());
      if (actual.sha256 !== file.sha256) throw new ArtifactIntegrityError(`promoted file ${file.path} changed since promotion (SHA-256 ${actual.sha256})`);
      const path = join(dir, file.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, bytes);
      if (file.path === entry) entrySha = file.sha256;
    }
    const handler = await load(join(dir, entry), entrySha);
    const key = `${req.service}/${req.environment}`;
    const slot = this.slot(key);
    const previousVersion = slot.version;
    slot.handler = handler;
    slot.version = req.version;
    slot.switchedAt = performance.timeOrigin + performance.now();
    const state = this.readState();
    state[key] = { version: req.version, dir, entry, sha256: entrySha };
    writeFileSync(this.statePath, JSON.stringify(state, null, 2));
    return { ref: req.version, ...(previousVersion ? { previousVersion } : {}) };
  }

  async close(): Promise<void> {
    await Promise.all([...this.slots.values()].map((s) => (s.server ? new Promise<void>((r) => s.server!.close(() => r())) : undefined)));
    for (const s of this.slots.values()) {
      delete s.server;
      delete s.endpoint;
    }
  }

  private slot(key: string): Slot {
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = {}));
    return slot;
  }

  private async serve(service: string, environment: string, slot: Slot, req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!slot.handler || !slot.version) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end(`nothing is deployed to ${service} ${environment}`);
        return;
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = chunks.length && req.method !== 'GET' && req.method !== 'HEAD' ? Buffer.concat(chunks) : undefined;
      const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, {
        method: req.method ?? 'GET',
        headers: Object.entries(req.headers).flatMap(([k, v]) => (v === undefined ? [] : Array.isArray(v) ? v.map((x) => [k, x] as [string, string]) : [[k, v] as [string, string]])),
        ...(body ? { body } : {}),
      });
      const response = await slot.handler(request, { service, environment, version: slot.version });
      const headers: Record<string, string> = { 'x-tagflow-version': slot.version };
      response.headers.forEach((value, name) => (headers[name] = value));
      res.writeHead(response.status, headers);
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`the service threw: ${(err as Error).message}`);
    }
  }
}

async function load(path: string, sha: string): Promise<FetchHandler> {
  const mod = (await import(`${pathToFileURL(path).href}?sha256=${sha}`)) as { fetch?: FetchHandler; default?: { fetch?: FetchHandler } };
  const handler = mod.fetch ?? mod.default?.fetch;
  if (typeof handler !== 'function') throw new Error(`${path} exports no fetch(request) handler`);
  return handler;
}
