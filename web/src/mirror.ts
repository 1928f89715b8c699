// A repository's mirror as `/api/v1/repository/{ns}/{repo}/mirror` answers it, and what its
// form and status need: intervals in units, UTC start dates, Quay's words for each state.

import { api, ApiError, repoPath } from './api';

export type SyncStatus = 'NEVER_RUN' | 'SYNC_NOW' | 'SYNCING' | 'SUCCESS' | 'FAIL' | 'CANCEL';

export interface MirrorProxy {
  http_proxy: string | null;
  https_proxy: string | null;
  no_proxy: string | null;
}

export interface Mirror {
  is_enabled: boolean;
  mirror_type: string;
  external_reference: string;
  external_registry_username: string | null;
  external_registry_config: { verify_tls: boolean; unsigned_images: boolean; proxy: MirrorProxy };
  sync_interval: number;
  sync_start_date: string | null;
  sync_expiration_date: string | null;
  sync_retries_remaining: number;
  sync_status: SyncStatus;
  root_rule: { rule_kind: string; rule_value: string[] };
  robot_username: string;
  skopeo_timeout_interval: number;
  architecture_filter: string[];
  platforms: string[];
  remove_stale_tags: boolean;
  copy_referrers: boolean;
  last_sync: SyncReport | null;
}

export interface TagOutcome {
  tag: string;
  action: 'copy' | 'move' | 'remove' | 'unchanged' | 'failed';
  digest: string;
  /** Only when the tag failed. */
  error?: string;
}

/** What a sync did, or (outcome "dry run") what one would do. */
export interface SyncReport {
  started: string;
  finished: string;
  outcome: string;
  message: string;
  copied: number;
  moved: number;
  removed: number;
  unchanged: number;
  failed: number;
  tags: TagOutcome[];
}

export const mirrorPath = (namespace: string, repository: string, rest = '') =>
  repoPath(namespace, repository, `/mirror${rest}`);

/** The repository's mirror, or `null` when it has none (the server answers 404). */
export async function readMirror(namespace: string, repository: string): Promise<Mirror | null> {
  try {
    return await api.get<Mirror>(mirrorPath(namespace, repository));
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 404) return null;
    throw failure;
  }
}

/** A sync runs or is about to: Sync Now is refused, Cancel Sync is offered, the page polls. */
export const isSyncing = (status: SyncStatus) => status === 'SYNCING' || status === 'SYNC_NOW';

/** Quay's words for a state; a mirror that never ran waits for its start date while enabled. */
export function statusWords(mirror: Mirror): string {
  switch (mirror.sync_status) {
    case 'NEVER_RUN':
      return mirror.is_enabled ? 'Sync Pending' : 'Never Run';
    case 'SYNC_NOW':
      return 'Sync Now requested';
    case 'SYNCING':
      return 'Syncing';
    case 'SUCCESS':
      return 'Last Sync Succeeded';
    case 'FAIL':
      return 'Last Sync Failed';
    case 'CANCEL':
      return 'Cancelled';
    default:
      return String(mirror.sync_status);
  }
}

export const INTERVAL_UNITS: [string, number][] = [
  ['seconds', 1],
  ['minutes', 60],
  ['hours', 3600],
  ['days', 86400],
  ['weeks', 604800],
];

/** Seconds as the largest unit that holds them whole: 86400 → 1 days, 90 → 90 seconds. */
export function splitInterval(seconds: number): { amount: string; unit: string } {
  for (const [unit, size] of [...INTERVAL_UNITS].reverse()) {
    if (seconds > 0 && seconds % size === 0) return { amount: String(seconds / size), unit };
  }
  return { amount: String(seconds), unit: 'seconds' };
}

export const intervalSeconds = (amount: string, unit: string) =>
  Math.round(Number(amount) * (INTERVAL_UNITS.find(([name]) => name === unit)?.[1] ?? 1));

/** A datetime-local value (local time) as the API takes it: UTC, `%Y-%m-%dT%H:%M:%SZ`. */
export function utcStamp(local: string): string {
  return new Date(local).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** "v3.*, latest" → ["v3.*", "latest"]: the Tags and Platforms fields are comma-separated. */
export const splitList = (text: string) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
