/**
 * One ClusterCard rendered as the sidebar renders it, with fake actions, at a given time.
 */
import { nullTranslator } from '@jupyterlab/translation';
import { render } from '@testing-library/react';
import * as React from 'react';

import { ClusterCard } from '../components/ClusterCard';
import { ICluster } from '../tokens';
import { fakeActions } from './fakes';

const trans = nullTranslator.load('jupyter_rapids_kf');

export function renderCard(shown: ICluster, now: number) {
  return render(
    <ClusterCard
      cluster={shown}
      pending={null}
      maxWorkers={16}
      actions={fakeActions()}
      trans={trans}
      now={now}
    />
  );
}
