/**
 * The facts dask-labextension's card shows and a user asks for: cores and memory of the
 * workers (per worker and in all) and the scheduler's address, to connect a Client by hand.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { ICluster } from '../tokens';
import { formatBytes } from './format';

const SUFFIXES: Record<string, number> = {
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40
};

/** A Kubernetes quantity ("500m", "4", "16Gi", "2e9") as a number; null if unreadable. */
export function parseQuantity(text: string | null): number | null {
  const match = /^\s*([0-9.]+(?:e[0-9]+)?)\s*(m|k|M|G|T|Ki|Mi|Gi|Ti)?\s*$/.exec(
    text ?? ''
  );
  if (!match) {
    return null;
  }
  const value = Number(match[1]) * SUFFIXES[match[2] ?? ''];
  return Number.isFinite(value) ? value : null;
}

function cores(value: number): string {
  return String(Math.round(value * 100) / 100);
}

export function ClusterFacts(props: {
  cluster: ICluster;
  trans: TranslationBundle;
}): JSX.Element {
  const { cluster, trans } = props;
  const workers = cluster.workers.desired;
  const cpu = parseQuantity(cluster.cpu);
  const memory = parseQuantity(cluster.memory);
  const address = cluster.scheduler.address;
  const ucx = cluster.scheduler.ucx_address;
  return (
    <>
      {cpu !== null && (
        <>
          <dt>{trans.__('Cores')}</dt>
          <dd>
            {trans.__('%1 (%2 per worker)', cores(cpu * workers), cores(cpu))}
          </dd>
        </>
      )}
      {memory !== null && (
        <>
          <dt>{trans.__('Memory')}</dt>
          <dd>
            {trans.__(
              '%1 (%2 per worker)',
              formatBytes(memory * workers),
              formatBytes(memory)
            )}
          </dd>
        </>
      )}
      {address && (
        <>
          <dt>{trans.__('Scheduler')}</dt>
          <dd className="jp-RapidsKF-address" title={address}>
            <code>{address}</code>
          </dd>
        </>
      )}
      {ucx && (
        <>
          <dt>{trans.__('Scheduler (UCX)')}</dt>
          <dd
            className="jp-RapidsKF-address"
            title={trans.__('The workers talk UCX; %1', ucx)}
          >
            <code>{ucx}</code>
          </dd>
        </>
      )}
    </>
  );
}
