/** The simulator's output: a readable timeline, a summary table, and the JSON report. */
import type { NetSnapshot } from './process/mesh-net';

export interface InvariantResult {
  ok: boolean;
  detail: string;
}

export interface SimReport {
  ok: boolean;
  seed: string;
  scenario: string;
  reproduce: string;
  mode: 'virtual' | 'process';
  duration_ms: number;
  invariants: Record<string, InvariantResult>;
  requests: { sent: number; ok: number; failed: number; expected_failures: number; lost: number };
  detection_ms: { p50: number | null; p99: number | null };
  convergence_ms: number | null;
  hit_rate: number | null;
  hit_rate_baseline: number | null;
  timeline: { t_ms: number; event: string }[];
  wall_ms: number;
  /** Process mode: what the fault proxies carried, per directed link `from>to` and in total. */
  proxy?: NetSnapshot;
  /** Process mode: per partition, until both sides saw it; per heal, until membership and state agreed. */
  partition_detection_ms?: number[];
  heal_ms?: number[];
  /** Virtual mode: routing-shard anti-entropy (digest bytes per live node per second, repairs). */
  anti_entropy?: { bytes_per_sec_per_node: number; snapshot_repairs: number; resend_repairs: number; mismatches: number };
}

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function fmtTime(ms: number): string {
  return `${(ms / 1000).toFixed(1).padStart(7)}s`;
}

export function renderReport(r: SimReport, timelineLimit = 60): string {
  const lines: string[] = [];
  lines.push(`mesh-sim ${r.mode} · scenario ${r.scenario} · seed ${r.seed} · ${(r.duration_ms / 1000).toFixed(0)} s simulated in ${(r.wall_ms / 1000).toFixed(1)} s`);
  lines.push('');
  lines.push('timeline');
  const shown = r.timeline.slice(0, timelineLimit);
  for (const e of shown) lines.push(`  ${fmtTime(e.t_ms)}  ${e.event}`);
  if (r.timeline.length > shown.length) lines.push(`  … ${r.timeline.length - shown.length} more events (see --json)`);
  lines.push('');
  lines.push('invariants');
  for (const [name, inv] of Object.entries(r.invariants)) lines.push(`  ${inv.ok ? 'ok  ' : 'FAIL'}  ${name.padEnd(22)} ${inv.detail}`);
  lines.push('');
  const q = r.requests;
  lines.push(`requests   sent ${q.sent}, ok ${q.ok}, failed ${q.failed} (expected ${q.expected_failures}, lost ${q.lost})`);
  lines.push(`detection  p50 ${r.detection_ms.p50 ?? '—'} ms, p99 ${r.detection_ms.p99 ?? '—'} ms; convergence ${r.convergence_ms ?? '—'} ms`);
  if (r.proxy) {
    const p = r.proxy.total;
    if (r.heal_ms?.length || r.partition_detection_ms?.length) lines.push(`partition  seen by both sides after ${r.partition_detection_ms?.join(', ') || '—'} ms; agreement ${r.heal_ms?.join(', ') || '—'} ms after the heal`);
    lines.push(`proxy      udp ${p.udp_forwarded} forwarded (${p.udp_delayed} delayed), ${p.udp_lost} lost, ${p.udp_partitioned} cut; tcp ${p.tcp_connections} connections, ${p.tcp_refused} refused, ${p.tcp_reset} reset, ${p.tcp_bytes} bytes; ${Object.keys(r.proxy.links).length} links`);
  }
  if (r.anti_entropy) {
    const a = r.anti_entropy;
    lines.push(`anti-entropy  ${a.bytes_per_sec_per_node} B/s per node of digests; ${a.mismatches} content mismatches seen, ${a.snapshot_repairs} re-snapshots and ${a.resend_repairs} resends asked for`);
  }
  lines.push(`hit rate   ${r.hit_rate === null ? '—' : r.hit_rate.toFixed(3)} (fault-free baseline ${r.hit_rate_baseline === null ? '—' : r.hit_rate_baseline.toFixed(3)})`);
  lines.push('');
  lines.push(r.ok ? 'PASS' : `FAIL\nreproduce: ${r.reproduce}`);
  return lines.join('\n');
}
