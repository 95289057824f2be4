import '../runtime/polyfills.js';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkArguments, SPEC } from './arguments.js';
import type SPEC_JSON from './commands.json';
// The local runtime (local S3 and DynamoDB, the fleet, the ASL interpreter, the SDK) loads only
// for the commands that use it: --help and argument errors answer without it.
import type { ApprovalRequested, ExecutionSummary, LocalRuntime } from '../runtime/runtime.js';
import type { AwsClients, StackTarget } from './aws/stack-backend.js';
import type { FollowOptions } from './aws/sfn-progress.js';
import type { ApproveDeps } from './approve.js';
import type { PipelineConfig } from '../../lambdas/lib/config.js';
import type { Backend, RunHandle } from './backend.js';
import { loadConfigFile } from './config-file.js';
import { bold, describeOutcome, dim, green, type ProgressEvent, progressPrinter, red, yellow } from './progress.js';
import { type CanaryTrafficPlan, canaryTrafficPlan, parseRate, SIMULATED_MINUTE_MS } from './canary-traffic.js';
import { hostname, userInfo } from 'node:os';
import { CliInputError, duplicateOf, errorReport, executionExitCode } from './cli-errors.js';
import { readJsonFile } from './input-files.js';

/** The usage text lives in usage.txt: the bin shim prints it for --help without loading TypeScript. */
const USAGE = readFileSync(new URL('./usage.txt', import.meta.url), 'utf8').trimEnd();

/** A command line that cannot be run as given: one line and a pointer to --help, exit 2. */
class UsageError extends CliInputError {}

type FlagName = keyof (typeof SPEC_JSON)['options'];
/** The parsed flags (local/cli/commands.json): two repeatable, two booleans, the rest strings. */
type Flags = { [K in FlagName]?: K extends 'suite' | 'traffic-path' | 'env' ? string[] : K extends 'retry' | 'help' | 'notify' | 'config-only' | 'record' | 'acknowledge' | 'force' ? boolean : string };

/** A flag commands.json requires (checkArguments has refused its absence, with an example). */
function need(flags: Flags, name: keyof Flags): string {
  const value = flags[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${String(name)} is required`);
  return value;
}

export interface CliEnv {
  /** The SDK clients for `--stack` (tests hand in clients pointed at dynalite or mocked). */
  awsClients?: (target: StackTarget) => AwsClients;
  /** How a deployed execution is followed (tests drive the polls). */
  follow?: FollowOptions;
  /** How requests to a stack's approval URL are signed and sent (tests sign as a given key). */
  signing?: ApproveDeps;
}

/** What `tagflow X` runs on: --stack NAME (or TAGFLOW_STACK) names a deployed stack; `tagflow local X` is always local. */
function stackOf(flags: Flags, local: boolean): string | undefined {
  if (local) {
    if (flags.stack) throw new UsageError('--stack does not go with `tagflow local …`: drop "local" to act on the deployed stack');
    return undefined;
  }
  const stack = flags.stack ?? process.env.TAGFLOW_STACK;
  return stack ? stack : undefined;
}

/**
 * Runs a command on its backend: the local runtime (`share: 'attach'`: a reading command works
 * beside another process that owns the data folder) or the deployed stack. `rt`, the local
 * runtime, serves only the local conveniences (--approve, --traffic).
 */
async function withBackend<T>(flags: Flags, env: CliEnv, stack: string | undefined, fn: (b: Backend, rt?: LocalRuntime) => Promise<T>, opts: { share?: 'attach'; waits?: Record<string, number> } = {}): Promise<T> {
  const config = loadConfigFile(flags.config);
  if (stack !== undefined) {
    if (flags.notify) throw new UsageError('--notify prints locally what the stack sends to its ReleaseNotifications topic (output ReleaseNotificationsTopicArn): subscribe to that instead');
    const { openStackBackend } = await import('./aws/stack-backend.js');
    const target = { stack, ...(flags.region ? { region: flags.region } : {}), ...(flags.profile ? { profile: flags.profile } : {}) };
    const backend = await openStackBackend(target, { config, ...(env.awsClients ? { clients: env.awsClients } : {}), ...(env.follow ? { follow: env.follow } : {}), ...(env.signing ? { signing: env.signing } : {}) });
    // Ctrl-C stops only the watching: an execution in AWS goes on, and says where to see it.
    const onSigint = () => {
      console.log(yellow(`\nstopped following; anything started goes on in AWS (tagflow status --stack ${stack}, or the console link above)`));
      process.exit(130);
    };
    process.once('SIGINT', onSigint);
    try {
      return await fn(backend);
    } finally {
      process.off('SIGINT', onSigint);
      await backend.close();
    }
  }
  const [{ LocalRuntime, LOCAL_LOCATIONS }, { localBackend }] = await Promise.all([import('../runtime/runtime.js'), import('./local-backend.js')]);
  const runtime = await LocalRuntime.start({ dataDir: flags['data-dir'] ?? '.tagflow', config, ...opts });
  const backend = localBackend(runtime, config, localUser(), LOCAL_LOCATIONS.artifactsBucket);
  for (const notice of backend.notices) console.log(yellow(notice));
  const offSignals = stopOnSignals(runtime);
  // --notify: the lines the ReleaseNotifications topic would carry, as the events reach the bus.
  const offNotify = flags.notify ? runtime.onBusEvent((await import('./notify.js')).notifier((line) => console.log(line))) : undefined;
  try {
    return await fn(backend, runtime);
  } finally {
    offNotify?.();
    await runtime.close();
    offSignals();
  }
}

export { describeRecovered } from './local-backend.js';

/**
 * Ctrl-C (SIGINT) or SIGTERM while this process runs executions: stop each (StopExecution, so
 * it ends ABORTED with who and why), let the runtime reconcile it — its canary removed, its
 * locks released, its outcome recorded — and exit 130/143. Returns the uninstaller.
 */
export function stopOnSignals(rt: LocalRuntime, exit: (code: number) => void = (code) => process.exit(code)): () => void {
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => {
    const handler = () => void interrupt(rt, signal).then(async (code) => {
      await rt.close();
      exit(code);
    });
    process.once(signal, handler);
    return () => process.off(signal, handler);
  });
  return () => handlers.forEach((off) => off());
}

/** The local user as the commands record them (user@host); "unknown user" without a passwd entry. */
export function localUser(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return 'unknown user';
  }
}

/** Stops and reconciles this process's executions after a signal; the exit code to leave with. */
export async function interrupt(rt: LocalRuntime, signal: 'SIGINT' | 'SIGTERM'): Promise<number> {
  const who = localUser();
  const running = rt.runningExecutions();
  if (running.length) console.log(yellow(`\n${signal}: stopping ${running.length} execution(s) and reconciling them…`));
  for (const execution of running) execution.abort({ error: signal, cause: `tagflow process ${process.pid} of ${who} got ${signal}` });
  const summaries = await Promise.all(running.map((e) => e.done));
  for (const s of summaries) {
    const r = s.reconciled;
    console.log(yellow(`  ${s.name}: ${r ? `${r.canariesRemoved.length} canary(ies) removed, ${r.locksReleased.length} lock(s) released${r.outcome ? `, recorded ${r.outcome.outcome}` : ''}` : 'nothing to reconcile'}`));
  }
  return signal === 'SIGINT' ? 130 : 143;
}

/** A release that ended at "Duplicate ignored": exit 0 only if the earlier attempt succeeded. */
export function duplicateExitCode(summary: ExecutionSummary): number | undefined {
  const duplicate = duplicateOf(summary);
  if (!duplicate) return undefined;
  console.log(duplicate.earlier.outcome === 'succeeded' ? duplicate.reason : red(duplicate.reason));
  return executionExitCode(summary);
}

/** Runs executions with the live progress view; returns whether all succeeded. */
export async function follow(start: (onEvent: (e: ProgressEvent) => void) => RunHandle | Promise<RunHandle>, title: string): Promise<ExecutionSummary> {
  console.log(bold(`▶ ${title}`));
  const handle = await start(progressPrinter((l) => console.log(l)));
  console.log(dim(`  execution ${handle.executionArn}`));
  if (handle.consoleUrl) console.log(dim(`  console ${handle.consoleUrl}`));
  const summary = await handle.done;
  console.log(describeOutcome(summary));
  return summary;
}

/** `--approve alice,bob`: approves as each name in turn until the request is decided, showing the count as it goes. */
async function approveAs(rt: LocalRuntime, request: ApprovalRequested, names: string[], rejecter?: string): Promise<void> {
  const hold = request.kind === 'canary-hold' || request.kind === 'migration-hold';
  const where =
    request.kind === 'canary-hold'
      ? `the held canary of ${request.service} ${request.version} in ${request.environment}`
      : request.kind === 'migration-hold'
        ? `${request.service} ${request.version} in ${request.environment}, which failed after a migration ran there`
        : `${request.service} ${request.version} into ${request.environment}`;
  if (rejecter !== undefined) {
    try {
      await rt.reject(request, rejecter, '--reject on the command line');
      console.log(yellow(`  ✗ ${hold ? 'rollback chosen' : 'rejected'} by ${rejecter}`));
    } catch (err) {
      console.log(red(`  ✗ ${rejecter} cannot decide: ${(err as Error).message}`));
    }
    return;
  }
  if (names.length === 0) {
    if (hold) {
      // The decision reaches only this process's runtime: without --approve, nobody can decide it, so say what happens.
      const otherwise = request.kind === 'migration-hold' ? 'it keeps what serves (HeldAfterMigration)' : 'it rolls back';
      console.log(yellow(`  ⏳ waiting for a decision (${request.kind === 'migration-hold' ? 'keep' : 'promote'} or rollback) on ${where} from ${request.approvers.join(', ')}; no --approve NAME or --reject NAME was given, so ${otherwise} after policy.approvalTimeoutHours (Ctrl-C to stop)`));
      return;
    }
    const promotion = request.kind === 'promotion';
    console.log(yellow(`  ⏳ waiting for approval (0/${request.needed}) of ${promotion ? 'the promotion of ' : ''}${where} from ${request.approvers.join(', ') || 'nobody (policy.approvers is empty)'}; locally only --approve ${request.needed > 1 ? 'NAME,NAME' : 'NAME'} on this command can approve it, so it fails with ApprovalTimedOut after ${promotion ? "the environment's approval.timeoutHours" : 'policy.approvalTimeoutHours'} (Ctrl-C to stop)`));
    return;
  }
  for (const name of names) {
    try {
      const outcome = await rt.approve(request, name);
      if (outcome.status === 'approved') {
        console.log(green(`  ✓ ${request.kind === 'migration-hold' ? 'kept' : hold ? 'promoted' : 'approved'} by ${outcome.approvers.join(' and ')}`));
        return;
      }
      console.log(yellow(`  ⏳ waiting for approval (${outcome.approvers.length}/${outcome.needed}: ${outcome.approvers.join(', ')})`));
    } catch (err) {
      console.log(red(`  ✗ ${name} cannot approve: ${(err as Error).message}`));
    }
  }
}

export async function main(argv: string[], env: CliEnv = {}): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  // The same check the bin shim makes before TypeScript loads (local/cli/arguments.js).
  const checked = checkArguments(argv);
  if (!checked.ok) throw new UsageError(checked.message);
  const flags = checked.values as Flags;
  const { local, name: group, positionals } = checked;
  const stack = stackOf(flags, local);
  const on = <T>(fn: (b: Backend, rt?: LocalRuntime) => Promise<T>, opts: { share?: 'attach'; waits?: Record<string, number> } = {}) => withBackend(flags, env, stack, fn, opts);

  switch (group) {
    case 'status':
      return on(async (b) => {
        if (flags.train) {
          const { trainStatus } = await import('./train-status.js');
          for (const line of await trainStatus(b.ledger, b.config, flags.train)) console.log(line);
          console.log(dim(b.where));
          return 0;
        }
        const { statusTable } = await import('./status.js');
        for (const line of await statusTable(b.ledger, b.config, flags.service, { executions: b.executions, now: b.now() })) console.log(line);
        console.log(dim(b.where));
        return 0;
      }, { share: 'attach' });
    case 'history': {
      const service = need(flags, 'service');
      return on(async (b) => {
        const { historyLines } = await import('./history.js');
        for (const line of await historyLines(b.ledger, service, flags.version, b.config)) console.log(line);
        console.log(dim(b.where));
        return 0;
      }, { share: 'attach' });
    }
    case 'dora': {
      const days = flags.days === undefined ? 30 : Number(flags.days);
      return on(async (b) => {
        const { doraReport } = await import('./dora.js');
        for (const line of await doraReport(b.ledger, b.config, b.now(), days, flags.service)) console.log(line);
        return 0;
      }, { share: 'attach' });
    }
    case 'freeze':
    case 'unfreeze': {
      const { describeFreeze, FreezeInputError } = await import('../../lambdas/lib/freezes.js');
      return on(async (b) => {
        try {
          if (group === 'freeze') {
            const f = await b.declareFreeze(flags);
            console.log(red(`❄ ${describeFreeze(f)}`));
            console.log(dim(`  in force from the next "Check deploy policy"; end it with: tagflow unfreeze ${f.name}${stack ? ` --stack ${stack}` : ''}`));
          } else {
            const f = await b.endFreeze(positionals[0] ?? '');
            console.log(green(`✓ unfroze ${describeFreeze(f)}`));
          }
          return 0;
        } catch (err) {
          if (!(err instanceof FreezeInputError)) throw err;
          console.error(red(err.message));
          return 2;
        }
      }, { share: 'attach' });
    }
    case 'drift':
      if (flags.acknowledge) {
        return on(async (b) => {
          const { DriftAcknowledgeError } = await import('../../lambdas/lib/drift-acknowledge.js');
          const { FreezeInputError } = await import('../../lambdas/lib/freezes.js');
          try {
            const mark = await b.acknowledgeDrift({ service: flags.service, environment: flags.environment, reason: flags.reason });
            const ack = mark.acknowledged;
            console.log(green(`✓ acknowledged the drift of ${flags.service} ${flags.environment} (the ledger has ${mark.expected}; it serves ${mark.actual})${ack ? ` as ${ack.by} at ${ack.at}: ${ack.reason}` : ''}`));
            console.log(dim('  releases go there again; a release or rollback that succeeds there clears the mark'));
            return 0;
          } catch (err) {
            if (!(err instanceof DriftAcknowledgeError) && !(err instanceof FreezeInputError)) throw err;
            console.error(red(err.message));
            return 2;
          }
        }, { share: 'attach' });
      }
      if (flags.record && stack !== undefined) throw new UsageError('--record writes the drift marks locally; on a stack the scheduled detect-drift function records them');
      return on(async (b, rt) => {
        const [{ detectDrift }, { driftLines }] = await Promise.all([import('../../lambdas/lib/drift.js'), import('./drift.js')]);
        const config = flags.service ? { ...b.config, services: Object.fromEntries(Object.entries(b.config.services).filter(([name]) => name === flags.service)) } : b.config;
        if (flags.service && !config.services[flags.service]) throw new UsageError(`--service ${flags.service}: no such service in the config; services: ${Object.keys(b.config.services).join(', ')}`);
        const report = await detectDrift(config, { ledger: b.ledger, reader: (t) => b.serving(t), now: b.now() });
        for (const line of driftLines(report)) console.log(line);
        // --record: what the scheduled check does — mark each new drift and put Drift Detected, clear what agrees again.
        if (flags.record && rt) for (const line of await (await import('./drift-record.js')).recordDriftLines(config, report, { ledger: b.ledger, events: rt.deps.events, clock: rt.clock, log: rt.deps.log })) console.log(line);
        console.log(dim(b.where));
        // 1 when something drifted, as a failed check; 0 when all that could be compared agrees.
        return report.drifted.length ? 1 : 0;
      }, { share: 'attach' });
    case 'report': {
      const service = need(flags, 'service');
      const version = need(flags, 'version');
      return on(async (b) => {
        const { writeReport, ReleaseNotFound } = await import('./report.js');
        try {
          const notes = await (await import('./notes.js')).notesForReport(b, service, version);
          const { summary } = await writeReport(b.ledger, service, version, flags.out, { dataDir: flags['data-dir'] ?? '.tagflow', now: b.now(), notes });
          console.log(green(`✓ report of ${summary}`));
          return 0;
        } catch (err) {
          if (!(err instanceof ReleaseNotFound)) throw err;
          console.error(`${red('error:')} ${err.message}`);
          return 2;
        }
      }, { share: 'attach' });
    }
    case 'notes': {
      const service = need(flags, 'service');
      const version = need(flags, 'version');
      // No footer: the markdown is meant to be piped (e.g. into gh release create --notes-file -).
      return on(async (b) => {
        const { notesLines } = await import('./notes.js');
        for (const line of await notesLines(b, service, version, { environment: flags.environment, format: flags.format as 'text' | 'markdown' | undefined })) console.log(line);
        return 0;
      }, { share: 'attach' });
    }
    case 'approve':
      return approveCommand(flags, env, stack);
    case 'plan':
      return planCommand(flags, env, stack);
    case 'release': {
      if (flags.train) {
        // A train: one execution of the train machine, which releases each member per environment in the configured order.
        const { trainInput, trainStatus } = await import('./train-status.js');
        const input = trainInput(loadConfigFile(flags.config), flags.train, need(flags, 'version'));
        for (const flag of ['traffic', 'traffic-path'] as const) if (flags[flag] !== undefined) throw new UsageError(`--${flag} applies to a release of one service; a train's canaries are judged on the traffic they get`);
        if (stack !== undefined && flags.approve !== undefined) throw new UsageError('--approve is a local convenience; against a stack, each approver runs tagflow approve with their own credentials');
        const approvers = (flags.approve ?? '').split(',').map((a) => a.trim()).filter(Boolean);
        return on(async (b, rt) => {
          const off = rt?.onApprovalRequested((request) => void approveAs(rt, request, approvers));
          try {
            const s = await follow((onEvent) => b.start('train', input, onEvent), `release train ${input.train} ${input.version}${stack ? ` on ${b.where}` : ''}`);
            for (const line of await trainStatus(b.ledger, b.config, input.train)) console.log(line);
            return exitCodeOf(s);
          } finally {
            off?.();
          }
        });
      }
      const input = {
        service: need(flags, 'service'),
        version: need(flags, 'version'),
        ...(flags.commit ? { commit: flags.commit } : {}),
        ...(flags.environments ? { environments: flags.environments.split(',').map((e) => e.trim()) } : {}),
        ...(flags.emergency !== undefined ? { emergency: { reason: flags.emergency } } : {}),
        ...(flags.retry ? { retry: true } : {}),
      };
      if (flags['config-only']) {
        // Said up front: a config release ships the live build's code again with the variables of vX.Y.Z-config.N.
        const problem = (await import('../../lambdas/lib/config-release.js')).configOnlyProblem(input.version);
        if (problem) throw new UsageError(`--config-only: --version ${problem}`);
      }
      if (stack !== undefined) {
        for (const flag of ['approve', 'reject', 'traffic', 'traffic-path'] as const) {
          if (flags[flag] !== undefined) throw new UsageError(`--${flag} is a local convenience; against a stack, ${flag === 'approve' || flag === 'reject' ? 'each approver runs tagflow approve with their own credentials' : 'the canary is judged on the real traffic'}`);
        }
        await validateInput('release', input);
        return on(async (b) => exitCodeOf(await follow((onEvent) => b.start('release', input, onEvent), `release ${input.service} ${input.version}${input.emergency ? ' (emergency)' : ''} on ${b.where}`)));
      }
      const approvers = (flags.approve ?? '').split(',').map((a) => a.trim()).filter(Boolean);
      if (flags.reject !== undefined && approvers.length) throw new UsageError('--approve and --reject: give one; --approve NAME approves (a hold: promotes or keeps), --reject NAME rejects (a hold: rolls back)');
      const rate = flags.traffic === undefined ? undefined : parseRate(flags.traffic);
      if (flags.traffic !== undefined && rate === undefined) throw new UsageError(`--traffic ${flags.traffic}: expected requests per simulated minute, e.g. --traffic 1200/min`);
      const traffic = canaryTrafficPlan(loadConfigFile(flags.config), input, { ...(rate !== undefined ? { rate } : {}), paths: flags['traffic-path'] ?? ['/'] });
      return on(async (b, rt) => {
        if (!rt) throw new Error('a local release needs the local runtime');
        const off = rt.onApprovalRequested((request) => void approveAs(rt, request, approvers, flags.reject));
        try {
          const title = `release ${input.service} ${input.version}${input.emergency ? ' (emergency)' : ''}`;
          return exitCodeOf(await withTraffic(rt, traffic, (observe) => follow((onEvent) => b.start('release', input, (e) => (observe(e), onEvent(e))), title)));
        } finally {
          off();
        }
      }, traffic.waits ? { waits: traffic.waits } : {});
    }
    case 'rollback': {
      const input = {
        service: need(flags, 'service'),
        environment: need(flags, 'environment'),
        reason: need(flags, 'reason'),
        ...(flags['to-version'] ? { toVersion: flags['to-version'] } : {}),
      };
      if (stack !== undefined) await validateInput('rollback', input);
      return on(async (b) => exitCodeOf(await follow((onEvent) => b.start('rollback', input, onEvent), `rollback ${input.service} ${input.environment}${stack ? ` on ${b.where}` : ''}`)));
    }
    case 'start-execution': {
      const machine = need(flags, 'machine') as 'release' | 'rollback' | 'train';
      const input = readJsonFile(need(flags, 'input'), 'input');
      if (stack !== undefined) await validateInput(machine, input, loadConfigFile(flags.config));
      return on(async (b) => exitCodeOf(await follow((onEvent) => b.start(machine, input, onEvent), `start-execution ${machine}${stack ? ` on ${b.where}` : ''}`)));
    }
    case 'send-event': {
      const { eventsFromFile } = await import('./input-files.js');
      // Checked before anything starts; each backend keeps only what its bus takes (locally the runtime's clock and account apply where the file gives none).
      const { events, notes } = eventsFromFile(readJsonFile(need(flags, 'file'), 'event'), { now: new Date(), account: '000000000000', region: 'us-east-1' });
      for (const note of notes) console.log(yellow(`ℹ ${note}`));
      // Locally, a release an event starts gets the canary traffic `local release` would send it.
      const { mergedWaits, trafficForEvent } = await import('./event-traffic.js');
      const plans = stack === undefined ? events.map((e) => trafficForEvent(loadConfigFile(flags.config), e)) : [];
      const waits = mergedWaits(plans);
      return on(async (b, rt) => {
        let worst = 0;
        const printer = progressPrinter((l) => console.log(l));
        for (const [i, event] of events.entries()) worst = Math.max(worst, await withTraffic(rt, plans[i], (observe) => sendOne(b, event, (e) => (observe(e), printer(e)))));
        return worst;
      }, waits ? { waits } : {});
    }
    case 'send-webhook': {
      const path = need(flags, 'file');
      const parsed = readJsonFile(path, 'webhook body'); // one line if it cannot be read or is not JSON
      const body = readFileSync(path, 'utf8');
      const { mergedWaits, trafficForWebhook } = await import('./event-traffic.js');
      const plan = trafficForWebhook(loadConfigFile(flags.config), parsed);
      const waits = mergedWaits([plan]);
      return on(async (_b, rt) => {
        if (!rt) throw new UsageError("send-webhook delivers to the local runtime; in AWS, GitHub posts to the stack's webhook URL");
        const { localWebhookDeps, sendWebhook } = await import('./send-webhook.js');
        const printer = progressPrinter((l) => console.log(l));
        return withTraffic(rt, plan, async (observe) => {
          const d = await sendWebhook(await localWebhookDeps(rt, (e) => (observe(e), printer(e))), body, need(flags, 'secret'), { event: flags.event, deliveryId: flags.delivery });
          console.log(`${d.status < 300 ? green(String(d.status)) : red(String(d.status))} ${d.message} (X-GitHub-Event ${d.event}, X-GitHub-Delivery ${d.deliveryId})`);
          if (d.unmatched) console.log(`no rule matched the event the receiver put; nothing started. ${d.unmatched}`);
          // A 4xx is a delivery the receiver refused (a signature, a body): the input's fault.
          let code = d.status >= 400 ? 2 : 0;
          for (const { rule, execution } of d.started) {
            console.log(bold(`▶ rule ${rule} started ${execution.executionArn}`));
            const s = await execution.done;
            console.log(describeOutcome(s));
            code = Math.max(code, exitCodeOf(s));
          }
          return code;
        });
      }, waits ? { waits } : {});
    }
    case 'publish-build': {
      // Every flag checked against the folder before anything is uploaded (one line, exit 2).
      const { validatePublishBuild } = await import('./publish-validate.js');
      const config = loadConfigFile(flags.config);
      const build = {
        ...validatePublishBuild({ ...flags, imageDigest: flags['image-digest'], changesFile: flags['changes-file'] }, config),
        // commands.json checked their form: what rollbacks past a migration read (schema-compat.ts).
        ...(flags.schema === undefined ? {} : { schema: Number(flags.schema) }),
        ...(flags['schema-compat'] === undefined ? {} : { schemaCompat: flags['schema-compat'].split(',') }),
      };
      // --provenance and --sbom checked as the release will check them, also before any upload.
      const { attestationsFromFlags } = await import('./publish-attestations.js');
      const attestations = await attestationsFromFlags({ provenance: flags.provenance, sbom: flags.sbom }, build, config);
      return on(async (b) => {
        const [{ publishBuild }, { uploadAttestations, withSignedProvenance }, { publishSigner, describeSigning }] = await Promise.all([
          import('../runtime/ci.js'),
          import('../runtime/attestations.js'),
          import('./publish-signer.js'),
        ]);
        const signer = await publishSigner(b.signing);
        // Beside the build before its manifest, whose presence says the build is complete.
        const attached = await uploadAttestations(b.store, b.artifactsBucket, build.service, build.version, await withSignedProvenance(attestations, signer));
        const m = await publishBuild(b.store, b.artifactsBucket, { ...build, ...(signer ? { signer } : {}) });
        console.log(`published ${m.service} ${m.version}: ${m.files.length} files, commit ${m.commit.slice(0, 12)} (s3://${b.artifactsBucket})`);
        console.log(`  ${await describeSigning(signer, b.signing)}`);
        for (const key of attached) console.log(`  attached s3://${b.artifactsBucket}/${key}`);
        return 0;
      });
    }
    case 'publish-config': {
      const { configFromFlags, publishConfigCommand } = await import('./publish-config.js');
      const f = { service: flags.service, version: flags.version, env: flags.env, file: flags.file };
      configFromFlags(f); // every flag checked before the runtime starts (exit 2)
      return on(async (b) => {
        const { publishSigner, describeSigning } = await import('./publish-signer.js');
        const signer = await publishSigner(b.signing);
        console.log(await publishConfigCommand(f, b, signer));
        console.log(`  ${await describeSigning(signer, b.signing)}`);
        return 0;
      });
    }
    case 'keygen': {
      if (stack !== undefined) throw new UsageError("keygen makes a key pair in the local data folder; a deployed stack signs with its KMS key (output SigningKeyArn), which CI's uploader policy may use");
      const { describeKeygen, keygen } = await import('./keygen.js');
      console.log(describeKeygen(keygen(flags['data-dir'] ?? '.tagflow', { force: flags.force === true })));
      return 0;
    }
    case 'scan-image': {
      if (stack !== undefined) throw new UsageError('scan-image records a scan for the local runtime; in AWS, ECR scans the pushed image and the vulnerability gate reads its findings');
      const { recordImageScanFile } = await import('../runtime/image-scans.js');
      const config = loadConfigFile(flags.config);
      return on(async (b) => {
        let lines: string[];
        try {
          lines = await recordImageScanFile(b.store, b.artifactsBucket, config, { service: need(flags, 'service'), imageDigest: need(flags, 'image-digest'), file: need(flags, 'findings'), ...(flags.repository ? { repository: flags.repository } : {}) });
        } catch (err) {
          // What the person gave (a service, a file, an entry) is named first in the message: exit 2.
          if (err instanceof Error && /^(--|services\.)/.test(err.message)) throw new UsageError(err.message);
          throw err;
        }
        for (const line of lines) console.log(line);
        return 0;
      });
    }
    case 'report-tests': {
      const service = need(flags, 'service');
      const commit = need(flags, 'commit');
      const { commitList, commitProblem } = await import('./publish-validate.js');
      const problems = [commitProblem(commit)].filter((p): p is string => p !== undefined);
      const fixes = commitList('fixes', flags.fixes, problems);
      if (problems.length) throw new UsageError(problems.join('; '));
      // commands.json checked each is NAME:PASSED:FAILED and that there is at least one.
      const suites = (flags.suite ?? []).map((s) => {
        const [name = '', passed, failed] = s.split(':');
        return { name, passed: Number(passed), failed: Number(failed) };
      });
      return on(async (b) => {
        const { reportTests } = await import('../runtime/ci.js');
        await reportTests(b.store, b.artifactsBucket, service, commit, suites, new Date(), fixes);
        console.log(`reported ${suites.length} suites for ${service} at ${commit.slice(0, 12)}`);
        return 0;
      });
    }
    default:
      throw new UsageError(`the command "${group}" is in local/cli/commands.json but not in main.ts`);
  }
}

/** 0 when the execution did what was asked; 1 when it failed, or was a duplicate of a release that did not succeed. */
function exitCodeOf(s: ExecutionSummary): number {
  return duplicateExitCode(s) ?? executionExitCode(s);
}

/** One event on the bus, and what it started, followed to the end. */
async function sendOne(b: Backend, event: Record<string, unknown>, onEvent: (e: ProgressEvent) => void): Promise<number> {
  const result = await b.sendEvent(event, onEvent);
  if (result.kind === 'stack') {
    console.log(`put on bus ${result.bus} as event ${result.eventId}: the stack's rules start what matches (tagflow status, or the Step Functions console)`);
    return 0;
  }
  if (result.started.length === 0) {
    console.log(`no rule matched this event; nothing started. ${result.unmatched ?? ''}`);
    return 0;
  }
  let code = 0;
  for (const { rule, execution } of result.started) {
    console.log(bold(`▶ rule ${rule} started ${execution.executionArn}`));
    const s = await execution.done;
    console.log(describeOutcome(s));
    code = Math.max(code, exitCodeOf(s));
  }
  return code;
}

/**
 * On the local runtime, sends the plan's canary traffic while a canary runs (`observe` watches
 * the execution's events for it), then says how much was really sent: a busy machine may fall
 * short of the rate, and the judge saw only this.
 */
async function withTraffic<T>(rt: LocalRuntime | undefined, plan: CanaryTrafficPlan | undefined, fn: (observe: (e: ProgressEvent) => void) => Promise<T>): Promise<T> {
  if (!rt || !plan) return fn(() => {});
  for (const notice of plan.notices) console.log(yellow(`ℹ ${notice}`));
  const sending = plan.attach((service, environment) => rt.fleet.endpoint(service, environment));
  try {
    return await fn((e) => sending.onEvent(e));
  } finally {
    for (const t of await sending.stop()) {
      const perMinute = Math.round((t.requests / Math.max(1, t.ms)) * SIMULATED_MINUTE_MS);
      console.log(dim(`  traffic to ${t.environment}'s canary: ${t.requests} requests (${perMinute}/min of the ${plan.rate ?? 0}/min asked), ${t.failures} answered 5xx or not at all`));
    }
  }
}

/**
 * Before anything is sent to a stack, the input passes the same validation the state machine's
 * first state applies (a bad one would otherwise start, and fail, an execution).
 */
async function validateInput(machine: 'release' | 'rollback' | 'train', input: unknown, config?: PipelineConfig): Promise<void> {
  try {
    if (machine === 'release') (await import('../../lambdas/lib/input.js')).parseManualRelease(input);
    else if (machine === 'rollback') (await import('../../lambdas/lib/rollback-input.js')).parseManualRollback(input);
    else (await import('../../lambdas/lib/train.js')).parseTrainInput(input, config!);
  } catch (err) {
    throw new UsageError(`the ${machine} input is not valid, so nothing was started: ${(err as Error).message}`);
  }
}

/** `tagflow plan`: the ledger and the metrics are read only when the traffic is not all given. */
async function planCommand(flags: Flags, env: CliEnv, stack: string | undefined): Promise<number> {
  const { liveTrafficMeter, parseErrorRate, parseRuns, parseTraffic, planReport, PlanInputError } = await import('./plan.js');
  const service = need(flags, 'service');
  try {
    const request = {
      service,
      environment: flags.environment,
      requestsPerMinute: flags.traffic === undefined ? undefined : parseTraffic(flags.traffic),
      errorRate: flags['error-rate'] === undefined ? undefined : parseErrorRate(flags['error-rate']),
      runs: flags.runs === undefined ? 200 : parseRuns(flags.runs),
    };
    const progress = (line: string) => void process.stderr.write(`${dim(line)}\n`);
    const lines =
      request.requestsPerMinute !== undefined && request.errorRate !== undefined
        ? await planReport(loadConfigFile(flags.config), request, { progress })
        : await withBackend(flags, env, stack, (b) => planReport(b.config, request, { progress, meter: liveTrafficMeter({ ledger: b.ledger, metrics: (t) => b.metrics(t), now: () => b.now() }) }), { share: 'attach' });
    for (const line of lines) console.log(line);
    return 0;
  } catch (err) {
    // One line naming the field and what to pass; the whole usage would bury it.
    if (!(err instanceof PlanInputError)) throw err;
    console.error(`${red('error:')} ${err.message}`);
    return 2;
  }
}

type DecisionWord = 'approve' | 'reject' | 'promote' | 'rollback';

/** The approvals URL: --url, TAGFLOW_APPROVAL_URL, or the stack's ApprovalUrl output. */
async function approvalUrl(flags: Flags, env: CliEnv, stack: string | undefined): Promise<string> {
  const given = flags.url ?? process.env.TAGFLOW_APPROVAL_URL;
  if (given) return given;
  if (stack === undefined) throw new UsageError("--url is required (the stack's ApprovalUrl output), or set TAGFLOW_APPROVAL_URL, or name the stack with --stack");
  const url = await withBackend(flags, env, stack, async (b) => b.approvalUrl);
  if (!url) throw new UsageError(`stack ${stack} has no ApprovalUrl output: its config has no policy.approvers, so nothing there waits for an approval`);
  return url;
}

async function approveCommand(flags: Flags, env: CliEnv, stack: string | undefined): Promise<number> {
  const decision = flags.decision ?? 'approve';
  const target = {
    service: need(flags, 'service'),
    version: need(flags, 'version'),
    environment: need(flags, 'environment'),
  };
  const url = await approvalUrl(flags, env, stack);
  const { approve, approvalUrlProblem } = await import('./approve.js');
  const problem = approvalUrlProblem(url);
  if (problem) throw new UsageError(problem);
  const opts = {
    ...target,
    decision: decision as DecisionWord,
    ...(flags.comment ? { comment: flags.comment } : {}),
    url,
    ...(flags.region ? { region: flags.region } : {}),
  };
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  const provider = defaultProvider(flags.profile ? { profile: flags.profile } : {});
  const res = await approve(opts, { credentials: () => provider(), post: (u, init) => fetch(u, init), now: () => new Date() });
  console.log(res.ok ? green(`✓ ${res.message}`) : red(`✗ ${res.status}: ${res.message}`));
  return res.ok ? 0 : 1;
}

export function runCli(argv: string[]): void {
  // dynalite throws storage failures (a full disk, a damaged ledger) outside any promise: name the data folder, never a raw LEVEL_ error.
  process.on('uncaughtException', (err) => {
    const dataDir = String(parseArgs({ args: argv, options: SPEC.options, allowPositionals: true, strict: false }).values['data-dir'] ?? '.tagflow');
    void import('../runtime/aws-services.js').then(({ describeDataError }) => {
      console.error(`${red('error:')} ${describeDataError(dataDir, err).message}`);
      process.exit(1);
    });
  });
  main(argv).then(
    (code) => process.exit(code),
    (err: unknown) => {
      // One line; exit 2 for what the user gave (a flag, a file, the config, a busy data folder, a stack that cannot be read), 1 otherwise.
      const { code, text } = errorReport(err);
      console.error(`${red('error:')} ${text.replace(/^error: /, '')}${err instanceof UsageError ? `\n${dim('tagflow --help lists every command and flag')}` : ''}`);
      process.exit(code);
    },
  );
}
