/** HTML text from strings the page does not control (the ledger's: commit messages, reasons, names). */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A duration for people: 850 ms, 12.4 s, 3 min 5 s, 2 h 10 min. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number(s.toPrecision(3))} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - 60 * m)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** `2026-11-30T19:09:39.577Z` → `2026-11-30 19:09:39 UTC`. */
export const formatTime = (iso: string): string => (Number.isNaN(Date.parse(iso)) ? iso : `${new Date(iso).toISOString().slice(0, 19).replace('T', ' ')} UTC`);

export const STYLE = `
:root { color-scheme: light; --fg: #212529; --muted: #6c757d; --line: #dee2e6; --passed: #2b8a3e; --failed: #c92a2a; --waiting: #868e96; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0; background: #f8f9fa; }
main { max-width: 1000px; margin: 0 auto; padding: 24px; background: white; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 4px; }
.meta { color: var(--muted); margin: 0 0 12px; }
.verdict { display: inline-block; font-weight: 700; font-size: 16px; padding: 4px 12px; border-radius: 4px; color: white; background: var(--waiting); }
.verdict.succeeded { background: var(--passed); }
.verdict.failed, .verdict.rolled-back, .verdict.aborted { background: var(--failed); }
.reason { margin: 8px 0 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.v { font-weight: 600; }
.v.passed, .v.done { color: var(--passed); }
.v.failed { color: var(--failed); }
.v.waiting, .v.skipped { color: var(--waiting); }
figure.chart { margin: 16px 0; }
figure.chart figcaption { font-weight: 600; }
figure.chart .note { color: var(--muted); font-size: 12px; margin: 0 0 4px; }
details summary { cursor: pointer; color: var(--muted); }
pre { white-space: pre-wrap; word-break: break-word; background: #f1f3f5; padding: 8px; font-size: 12px; max-height: 360px; overflow: auto; }
.empty { color: var(--muted); font-style: italic; }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
`;
