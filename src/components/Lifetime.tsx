/**
 * How and when a cluster ends, on its card: with its notebook (a Kubernetes owner, deleted
 * by the garbage collector with the notebook), after its idle timeout ("stops in 12 min if
 * still idle", counted from the scheduler's own idle time, as the operator counts), and at
 * the end of its lifetime. None of these needs this server to be running.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { ICluster } from '../tokens';

/**
 * "40 s", "12 min", "3 h 5 min", "2 d 4 h". A countdown rounds minutes up (never "0 min"
 * early); a measured duration (`exact`) keeps tenths below ten seconds ("0.4 s") and
 * seconds below ten minutes ("2 min 32 s").
 */
export function formatDuration(
  seconds: number,
  trans: TranslationBundle,
  exact = false
): string {
  if (exact && seconds < 10) {
    return trans.__('%1 s', Math.max(0, seconds).toFixed(1));
  }
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) {
    return trans.__('%1 s', s);
  }
  if (exact && s < 600) {
    return s % 60
      ? trans.__('%1 min %2 s', Math.floor(s / 60), s % 60)
      : trans.__('%1 min', s / 60);
  }
  const minutes = exact ? Math.round(s / 60) : Math.ceil(s / 60);
  if (minutes < 60) {
    return trans.__('%1 min', minutes);
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    return minutes % 60
      ? trans.__('%1 h %2 min', hours, minutes % 60)
      : trans.__('%1 h', hours);
  }
  return hours % 24
    ? trans.__('%1 d %2 h', Math.floor(hours / 24), hours % 24)
    : trans.__('%1 d', Math.floor(hours / 24));
}

export function endsWithText(
  cluster: ICluster,
  trans: TranslationBundle
): string | null {
  const owner = cluster.ends_with;
  if (owner) {
    return owner.kind === 'Notebook'
      ? trans.__('ends with notebook %1', owner.name)
      : trans.__('ends with %1 %2', owner.kind, owner.name);
  }
  if (cluster.backend === 'kubernetes' && cluster.managed) {
    return trans.__('not tied to a notebook: ends only when deleted or idle');
  }
  return null;
}

/** The idle countdown; null when the cluster has no idle timeout. */
export function idleText(
  cluster: ICluster,
  trans: TranslationBundle,
  now: number
): string | null {
  if (!cluster.idle_timeout) {
    return null;
  }
  const timeout = formatDuration(cluster.idle_timeout, trans);
  const since = cluster.idle_since ? Date.parse(cluster.idle_since) : NaN;
  if (isNaN(since)) {
    return trans.__('stops after %1 without work', timeout);
  }
  const left = since / 1000 + cluster.idle_timeout - now / 1000;
  if (left <= 0) {
    return trans.__('stopping: idle for %1', timeout);
  }
  return trans.__('stops in %1 if still idle', formatDuration(left, trans));
}

/** When the lifetime ends; null without one. */
export function lifetimeText(
  cluster: ICluster,
  trans: TranslationBundle,
  now: number
): string | null {
  const created = Date.parse(cluster.created);
  if (!cluster.lifetime || isNaN(created)) {
    return null;
  }
  const left = created / 1000 + cluster.lifetime - now / 1000;
  return left > 0
    ? trans.__('deleted in %1, busy or not', formatDuration(left, trans))
    : trans.__('lifetime over: being deleted');
}

export function Lifetime(props: {
  cluster: ICluster;
  trans: TranslationBundle;
  now: number;
}): JSX.Element | null {
  const { cluster, trans, now } = props;
  const rows: [string, string | null][] = [
    [trans.__('Ends'), endsWithText(cluster, trans)],
    [trans.__('Idle'), idleText(cluster, trans, now)],
    [trans.__('Lifetime'), lifetimeText(cluster, trans, now)]
  ];
  return (
    <>
      {rows
        .filter(([, text]) => text !== null)
        .map(([label, text]) => (
          <React.Fragment key={label}>
            <dt>{label}</dt>
            <dd className="jp-RapidsKF-lifetime">{text}</dd>
          </React.Fragment>
        ))}
    </>
  );
}
