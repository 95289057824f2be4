import type { EnvironmentConfig, PipelineConfig } from '../../lambdas/lib/config.js';
import { startPacedTraffic, type Traffic } from '../runtime/traffic.js';

/**
 * `tagflow local release --traffic RATE/min`: a local canary is judged on real requests, and
 * nothing sends any to the local fleet unless someone does. With --traffic the CLI sends RATE
 * requests per simulated minute to each canary environment of the release, and a bake poll
 * (pollSeconds in AWS) takes pollSeconds / 60 seconds of wall time: one simulated minute per
 * second. Without it, the release says at the start what a canary with no traffic will do.
 */

export interface CanaryTrafficPlan {
  /** The runtime's wait overrides: compressed bake polls. */
  waits?: Record<string, number>;
  /** What to tell the person at the start. */
  notices: string[];
  /** Requests per simulated minute it sends to a running canary (absent when it sends none). */
  rate?: number;
  /** Follows the execution's events: sends traffic while a canary of the plan runs, and only then. */
  attach(endpoint: (service: string, environment: string) => Promise<string>): CanaryTrafficFollower;
}

export interface CanaryTrafficFollower {
  onEvent(e: unknown): void;
  /** Stops any traffic still running; what was sent, per canary, and for how long. */
  stop(): Promise<{ environment: string; requests: number; failures: number; ms: number }[]>;
}

/** The states of a canary's loop: traffic flows while the execution is in them, and stops at the first other one (a rollback's or the smoke tests' checks must not compete with it). */
const CANARY_LOOP = new Set(['Start canary', 'Canary running', 'Bake canary', 'Judge canary', 'Canary verdict', 'Shift canary traffic', 'Emit Canary Step Passed', 'Prepare canary hold', 'Hold canary', 'Verify canary hold']);

const idle: CanaryTrafficFollower = { onEvent: () => undefined, stop: async () => [] };

/** "600/min" → 600, "off" → 0 (no traffic); undefined for anything else. */
export function parseRate(text: string): number | undefined {
  if (text.trim() === 'off') return 0;
  const m = /^(\d+(?:\.\d+)?)\s*\/\s*min$/.exec(text.trim());
  const n = m ? Number(m[1]) : NaN;
  return Number.isFinite(n) && n > 0 && n <= 60_000 ? n : undefined;
}

/** The traffic a local release sends its canaries unless told otherwise: the demo's order of magnitude. */
export const DEFAULT_LOCAL_RATE = 1200;

/** Seconds of wall time a simulated minute takes locally with --traffic. */
export const SIMULATED_MINUTE_MS = 1000;

export function canaryTrafficPlan(config: PipelineConfig, input: { service: string; environments?: string[] }, opts: { rate?: number; paths: string[] }): CanaryTrafficPlan {
  const svc = config.services[input.service];
  const planned = (svc?.environments ?? []).filter((e) => !input.environments || input.environments.includes(e.name));
  const canaries = planned.filter((e): e is EnvironmentConfig & { canary: NonNullable<EnvironmentConfig['canary']> } => Boolean(e.canary));
  if (!canaries.length) return { notices: opts.rate ? [`--traffic: ${input.service} has no canary in ${planned.map((e) => e.name).join(', ') || 'its plan'}; nothing to send traffic to`] : [], attach: () => idle };
  if (opts.rate === 0) {
    return {
      notices: canaries.map((e) => {
        const c = e.canary;
        const then = c.onInconclusive === 'hold' ? 'it is held for an approver' : c.onInconclusive === 'promote' ? 'it is promoted for want of evidence' : 'it is rolled back';
        const bake = c.maxBakeSeconds ?? 900;
        return `${e.name} has a canary, and --traffic off sends no traffic to the local fleet: the judge sees no requests, each step bakes ${bake} s in real time and is inconclusive, then ${then} (onInconclusive: ${c.onInconclusive}). Leave --traffic out (${DEFAULT_LOCAL_RATE}/min) or give a rate to send requests and bake one simulated minute per second.`;
      }),
      attach: () => idle,
    };
  }
  const rate = opts.rate ?? DEFAULT_LOCAL_RATE;
  const poll = Math.min(...canaries.map((e) => e.canary.pollSeconds));
  return {
    rate,
    waits: { 'Bake canary': Math.max(50, Math.round((poll / 60) * SIMULATED_MINUTE_MS)) },
    notices: [`--traffic: ${rate} requests per simulated minute to ${canaries.map((e) => e.name).join(', ')} (${paths(opts.paths)}); a simulated minute takes ${SIMULATED_MINUTE_MS / 1000} s, so a ${poll} s bake poll takes ${((poll / 60) * SIMULATED_MINUTE_MS) / 1000} s`],
    attach: (endpoint) => {
      const names = new Set(canaries.map((e) => e.name));
      const done: Awaited<ReturnType<CanaryTrafficFollower['stop']>> = [];
      let environment: string | undefined;
      let running: { environment: string; traffic: Traffic; since: number } | undefined;
      const stopRunning = () => {
        const r = running;
        running = undefined;
        return r ? r.traffic.stop().then((sent) => void done.push({ environment: r.environment, ...sent, ms: performance.now() - r.since })) : Promise.resolve();
      };
      let stopping = Promise.resolve();
      return {
        onEvent(raw) {
          const e = raw as { type?: string; state?: { name?: string; output?: { stage?: { environment?: { name?: string } } } } };
          const name = e.state?.name ?? '';
          if (e.type === 'StateExited' && name === 'Enter environment') environment = e.state?.output?.stage?.environment?.name;
          if (e.type !== 'StateEntered') return;
          if (name === 'Start canary' && environment && names.has(environment) && !running) {
            const env = environment;
            running = { environment: env, since: performance.now(), traffic: startPacedTraffic(() => endpoint(input.service, env), { paths: opts.paths, perSecond: (rate * 1000) / SIMULATED_MINUTE_MS, concurrency: 32 }) };
          } else if (running && !CANARY_LOOP.has(name)) {
            stopping = stopping.then(stopRunning);
          }
        },
        async stop() {
          await (stopping = stopping.then(stopRunning));
          return done;
        },
      };
    },
  };
}

const paths = (p: string[]) => p.join(', ');
