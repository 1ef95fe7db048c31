/**
 * Small formatting helpers shared by the views: ages, sizes, phases in plain words.
 */
import { TranslationBundle } from '@jupyterlab/translation';

import { ICluster, Phase } from '../tokens';

/** "45 s", "3 min", "2 h 5 min", "3 d" since an ISO date. */
export function formatAge(
  created: string,
  trans: TranslationBundle,
  now: number = Date.now()
): string {
  const start = Date.parse(created);
  if (isNaN(start)) {
    return trans.__('unknown');
  }
  const seconds = Math.max(0, Math.floor((now - start) / 1000));
  if (seconds < 60) {
    return trans.__('%1 s', seconds);
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return trans.__('%1 min', minutes);
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    return trans.__('%1 h %2 min', hours, minutes % 60);
  }
  return trans.__('%1 d', Math.floor(hours / 24));
}

/** Bytes as "1.5 GiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** The phase as a user reads it. */
export function phaseLabel(phase: Phase, trans: TranslationBundle): string {
  switch (phase) {
    case 'Creating':
      return trans.__('Creating');
    case 'Pending':
      return trans.__('Pending');
    case 'Running':
      return trans.__('Running');
    case 'Scaling':
      return trans.__('Scaling');
    case 'Deleting':
      return trans.__('Deleting');
    case 'Failed':
      return trans.__('Failed');
    default:
      return trans.__('Unknown');
  }
}

/** One sentence on what a phase means, for the badge's tooltip. */
export function phaseHelp(cluster: ICluster, trans: TranslationBundle): string {
  switch (cluster.phase) {
    case 'Creating':
      return trans.__('The cluster was asked for; its scheduler is starting.');
    case 'Pending':
      return trans.__(
        'The scheduler is not ready yet; workers count once they have joined it.'
      );
    case 'Running':
      return trans.__(
        'Every worker has joined the scheduler: a client computes now.'
      );
    case 'Scaling':
      return trans.__(
        '%1 of %2 workers have joined the scheduler.',
        cluster.workers.ready,
        cluster.workers.desired
      );
    case 'Deleting':
      return trans.__('The cluster is being deleted.');
    case 'Failed':
      return trans.__('The cluster cannot run; see the reasons below.');
    default:
      return trans.__('The state of the cluster cannot be read.');
  }
}

/** The value of `%` with no decimals, or null. */
export function percent(
  part: number | null,
  total: number | null
): number | null {
  if (part === null || total === null || total <= 0) {
    return null;
  }
  return Math.round((100 * part) / total);
}
