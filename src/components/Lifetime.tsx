/**
 * How a cluster ends: with its notebook (a Kubernetes owner, deleted by the garbage
 * collector when the notebook is), or only when deleted.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { ICluster } from '../tokens';

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

export function Lifetime(props: {
  cluster: ICluster;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { cluster, trans } = props;
  const ends = endsWithText(cluster, trans);
  if (ends === null) {
    return null;
  }
  return (
    <>
      <dt>{trans.__('Lifetime')}</dt>
      <dd className="jp-RapidsKF-lifetime">{ends}</dd>
    </>
  );
}
