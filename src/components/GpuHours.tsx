/**
 * GPU-hours on a cluster card ("1.25 held · 41% busy · ≈ €3.44") and the namespace total
 * of the clusters listed, in the sidebar. A busy share without readings says "unknown",
 * never 0 %.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import {
  formatHours,
  formatMoney,
  gpuHoursNow,
  idleSeconds,
  IGpuHoursNow,
  totalGpuHours
} from '../gpuHours';
import { ICluster } from '../tokens';
import { formatDuration } from './Lifetime';

/** The parts every GPU-hours line has: hours, busy share, money. */
export function gpuHoursParts(
  hours: IGpuHoursNow,
  trans: TranslationBundle
): string[] {
  const parts = [trans.__('%1 held', formatHours(hours.held))];
  if (hours.share === null) {
    parts.push(hours.held > 0 ? trans.__('busy share unknown') : '');
  } else if (hours.read < hours.held * 0.99) {
    parts.push(
      trans.__(
        '%1% busy (of the %2 with readings)',
        Math.round(100 * hours.share),
        formatHours(hours.read)
      )
    );
  } else {
    parts.push(trans.__('%1% busy', Math.round(100 * hours.share)));
  }
  if (hours.cost !== null) {
    parts.push(trans.__('≈ %1', formatMoney(hours.cost, hours.currency)));
  }
  return parts.filter(part => part !== '');
}

export function GpuHoursFacts(props: {
  cluster: ICluster;
  trans: TranslationBundle;
  now: number;
}): JSX.Element | null {
  const { cluster, trans, now } = props;
  const counted = cluster.gpu_hours;
  if (!counted) {
    return null; // a server from before GPU-hours
  }
  const hours = gpuHoursNow(counted, now);
  if (hours.held === 0 && cluster.gpus_per_worker === 0) {
    return (
      <>
        <dt>{trans.__('GPU-hours')}</dt>
        <dd className="jp-RapidsKF-gpuHours">{trans.__('0 (CPU workers)')}</dd>
      </>
    );
  }
  const since = counted.counted_since ? Date.parse(counted.counted_since) : NaN;
  // Hours before the server first saw the cluster are not known (a server restart).
  const late = since - Date.parse(cluster.created) > 60000;
  const idle = idleSeconds(counted, now);
  return (
    <>
      <dt>{trans.__('GPU-hours')}</dt>
      <dd className="jp-RapidsKF-gpuHours">
        {gpuHoursParts(hours, trans).join(' · ')}
        {late && (
          <div className="jp-RapidsKF-muted">
            {trans.__(
              'counted since %1',
              new Date(since).toLocaleTimeString([], {
                hour: '2-digit',
                minute: '2-digit'
              })
            )}
          </div>
        )}
        {idle !== null && idle >= 60 && (
          <div className="jp-RapidsKF-gpuIdle" role="note">
            {trans.__(
              'GPUs under %1% busy for %2',
              counted.idle_below,
              formatDuration(idle, trans, true)
            )}
          </div>
        )}
      </dd>
    </>
  );
}

/** "GPU-hours of the 3 clusters listed: 3.40 held · 22% busy · ≈ €9.35". */
export function NamespaceGpuHours(props: {
  clusters: ReadonlyArray<ICluster>;
  trans: TranslationBundle;
  now: number;
}): JSX.Element | null {
  const { clusters, trans, now } = props;
  const total = totalGpuHours(clusters, now);
  const cpuOnly = clusters.every(c => c.gpus_per_worker === 0);
  if (total === null || (cpuOnly && total.held === 0)) {
    return null; // nothing to add up: CPU clusters hold no GPU
  }
  return (
    <div className="jp-RapidsKF-gpuHoursTotal" role="status">
      {trans._n(
        'GPU-hours of the %1 cluster listed: %2',
        'GPU-hours of the %1 clusters listed: %2',
        clusters.length,
        gpuHoursParts(total, trans).join(' · ')
      )}
    </div>
  );
}
