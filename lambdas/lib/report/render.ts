import { canaryCharts, timelineChart, type Chart } from './charts.js';
import { escapeHtml as h, formatDuration, formatTime, STYLE } from './html.js';
import { notesSummary } from '../release-notes.js';
import { reportModel, type ReleaseData, type ReportModel } from './model.js';
import { supplyChainSection } from './supply-chain.js';

/**
 * The release report: one self-contained HTML page (inline CSS, inline SVG, no script, no URL
 * it must fetch) with the verdict, the plan and each environment's steps on a timeline with
 * their durations, the approvals, a canary's charts per look, and every decision with its
 * evidence. Every string from the ledger passes through `escapeHtml`.
 */
export function renderReport(data: ReleaseData, opts: { generatedAt?: string } = {}): string {
  return renderModel(reportModel(data), opts);
}

export function renderModel(m: ReportModel, opts: { generatedAt?: string } = {}): string {
  const title = `${m.service} ${m.version}: ${m.verdict}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="tagflow-verdict" content="${h(m.verdict)}">
<title>${h(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${header(m)}
${notesSection(m)}
${planSection(m)}
${supplyChainSection(m.supplyChain)}
${timelineSection(m)}
${approvalsSection(m)}
${canarySections(m)}
${decisionsSection(m)}
<footer>tagflow release report${opts.generatedAt ? ` · generated ${h(formatTime(opts.generatedAt))}` : ''} · release ${h(m.release.releaseId)} · execution ${h(m.release.executionId)}</footer>
</main>
</body>
</html>
`;
}

function header(m: ReportModel): string {
  const r = m.release;
  const o = m.outcome;
  const facts = [
    `started ${formatTime(r.startedAt)}`,
    ...(o ? [`finished ${formatTime(o.finishedAt)} (${formatDuration(Date.parse(o.finishedAt) - Date.parse(r.startedAt))})`] : []),
    `trigger ${r.trigger.kind}${r.trigger.detail ? ` (${r.trigger.detail})` : ''}`,
    ...(r.commit ? [`commit ${r.commit.slice(0, 12)}`] : []),
    ...(r.imageDigest ? [`image ${r.imageDigest}`] : []),
    ...(r.attempt && r.attempt > 1 ? [`attempt ${r.attempt}`] : []),
  ];
  const earlier = (r.attempts ?? []).map((a) => `<li>attempt ${a.attempt}, started ${h(formatTime(a.startedAt))}: ${h(a.outcome ?? 'no outcome')}${a.reason ? ` — ${h(a.reason)}` : ''}</li>`);
  const attempts = earlier.length ? `<p class="meta">Earlier attempts (the timeline and charts below are attempt ${r.attempt ?? earlier.length + 1}'s):</p><ul class="attempts">${earlier.join('')}</ul>` : '';
  const failedRollback = o?.rollbackFailed ? `<p class="reason"><strong>The rollback failed too</strong> in ${h(o.rollbackFailed.environment)}: ${h(o.rollbackFailed.summary)}</p>` : '';
  return `<header>
<h1>${h(m.service)} ${h(m.version)}</h1>
<p class="meta">${facts.map(h).join(' · ')}</p>
<div id="verdict"><span class="verdict ${h(m.verdict.replace(/\s+/g, '-'))}">${h(verdictWords(m.verdict))}</span>${o?.error ? ` <span class="meta">${h(o.error)}</span>` : ''}
<p class="reason">${h(o?.reason ?? 'The release has no outcome yet: it is running, or its execution ended without one being recorded.')}</p>${failedRollback}</div>
${attempts}
</header>`;
}

/** The commits the release brings, by conventional type; subjects and authors are CI's text, so escaped. */
function notesSection(m: ReportModel): string {
  const n = m.notes;
  if (!n) return '';
  const since = n.since ? `since ${h(n.since)}${n.environment ? `, the previous known-good version in ${h(n.environment)}` : ''}: ` : '';
  const groups = n.groups.map(
    (g) =>
      `<h3>${h(g.title)}</h3><ul class="notes" data-group="${h(g.key)}">${g.changes
        .map((c) => `<li>${c.scope ? `<strong>${h(c.scope)}:</strong> ` : ''}${h(c.description)}${c.breaking && c.type ? ` (${h(c.type)})` : ''} <span class="meta"><code title="${h(c.sha)}">${h(c.sha.slice(0, 7))}</code>${c.author ? ` ${h(c.author)}` : ''}</span></li>`)
        .join('')}</ul>`,
  );
  return `<section id="notes"><h2>Release notes</h2><p class="meta">${since}${h(notesSummary(n))}</p>${groups.join('\n')}</section>`;
}

const verdictWords = (v: string) => ({ succeeded: 'Succeeded', failed: 'Failed', 'rolled-back': 'Rolled back', aborted: 'Aborted' })[v] ?? 'In progress';

function planSection(m: ReportModel): string {
  const reached = new Set(m.outcome?.environments ?? []);
  const spans = new Map(m.lanes.map((l) => [l.lane, l]));
  const rows = m.plan.map((env, i) => {
    const s = spans.get(env);
    const state = reached.has(env) ? 'passed' : s ? (m.outcome ? 'failed' : 'waiting') : 'skipped';
    const words = reached.has(env) ? 'reached' : s ? (m.outcome ? 'not reached' : 'in progress') : 'not entered';
    return `<tr><td class="num">${i + 1}</td><td>${h(env)}</td><td class="v ${state}">${words}</td><td>${s ? h(formatTime(s.start)) : ''}</td><td class="num">${s ? h(formatDuration(s.ms)) : ''}</td></tr>`;
  });
  return `<section id="plan"><h2>Plan</h2>
<table><thead><tr><th>#</th><th>environment</th><th>result</th><th>entered</th><th>duration</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function figure(c: Chart): string {
  return `<figure class="chart" id="chart-${h(c.id)}" data-chart="${h(c.id)}"><figcaption>${h(c.title)}</figcaption><p class="note">${h(c.note)}</p>${c.markup}</figure>`;
}

function timelineSection(m: ReportModel): string {
  if (m.timeline.length === 0) return `<section id="timeline"><h2>Timeline</h2><p class="empty">No decision recorded yet.</p></section>`;
  const t0 = Date.parse(m.release.startedAt);
  const rows = m.timeline.map(
    (b) =>
      `<tr><td>${h(b.lane)}</td><td>${h(b.label)}${b.decisions > 1 ? ` <span class="meta">(${b.decisions} decisions)</span>` : ''}</td><td class="v ${h(b.verdict)}">${h(b.verdict)}</td><td class="num" title="${h(formatTime(b.start))}">+${h(formatDuration(Date.parse(b.start) - t0))}</td><td class="num">${h(formatDuration(b.ms))}</td></tr>`,
  );
  return `<section id="timeline"><h2>Timeline</h2>
${figure(timelineChart(m.timeline, m.lanes, m.release.startedAt))}
<details class="steps"><summary>every step, when it began and how long it took (${m.timeline.length})</summary>
<table><thead><tr><th>where</th><th>step</th><th>verdict</th><th>began after</th><th>duration</th></tr></thead><tbody>${rows.join('')}</tbody></table></details></section>`;
}

function approvalsSection(m: ReportModel): string {
  if (m.approvals.length === 0) return `<section id="approvals"><h2>Approvals</h2><p class="empty">No approval was asked for.</p></section>`;
  const rows = m.approvals.map(
    (a) =>
      `<tr><td>${h(a.environment)}</td><td>${h(a.kind)}</td><td class="v ${a.decision === 'approved' ? 'passed' : 'failed'}">${h(a.decision)}</td><td>${h(a.who)}</td><td>${h(formatTime(a.at))}</td><td>${h(a.comment ?? '')}</td></tr>`,
  );
  return `<section id="approvals"><h2>Approvals</h2>
<table><thead><tr><th>environment</th><th>kind</th><th>decision</th><th>who</th><th>when</th><th>comment</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function canarySections(m: ReportModel): string {
  return m.canaries
    .map((s) => {
      const ended = s.verdicts.map((v) => `<li><span class="v ${v.verdict}">step ${v.step} at ${v.weight}%: ${h(v.verdict)} at look ${v.index}</span> — ${h(v.summary)}</li>`);
      const plans = s.plans.map((p) => `<li>${p.weight !== null ? `step ${p.step} at ${p.weight}%: ` : ''}${h(p.summary)}</li>`);
      return `<section class="canary" id="canary-${h(s.environment)}" data-environment="${h(s.environment)}"><h2>Canary in ${h(s.environment)}</h2>
<p class="meta">${s.looks.length} look${s.looks.length === 1 ? '' : 's'} of the judge${s.passRatio !== null ? ` · passRatio ${s.passRatio}` : ''}</p>
${ended.length ? `<h3>Verdicts</h3><ul class="verdicts">${ended.join('')}</ul>` : '<p class="empty">The judge reached no verdict.</p>'}
${plans.length ? `<h3>Bake plans</h3><ul>${plans.join('')}</ul>` : ''}
${canaryCharts(s).map(figure).join('\n')}
</section>`;
    })
    .join('\n');
}

function decisionsSection(m: ReportModel): string {
  const rows = m.decisions.map((d) => {
    const evidence = d.evidence === undefined ? '' : `<details><summary>evidence</summary><pre>${h(JSON.stringify(d.evidence, null, 2))}</pre></details>`;
    return `<tr><td>${h(formatTime(d.at))}</td><td>${h(d.environment ?? 'release')}</td><td>${h(d.step)}</td><td class="v ${h(d.verdict)}">${h(d.verdict)}</td><td>${h(d.summary)}${evidence}</td></tr>`;
  });
  return `<section id="decisions"><h2>Decisions</h2>
<table><thead><tr><th>when</th><th>where</th><th>step</th><th>verdict</th><th>what and why</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}
