import { nullTranslator } from '@jupyterlab/translation';
import { render, screen } from '@testing-library/react';
import * as React from 'react';

import { ClusterCard } from '../components/ClusterCard';
import { parseQuantity } from '../components/ClusterFacts';
import { cluster, fakeActions } from './fakes';

const trans = nullTranslator.load('jupyter_rapids_kf');

describe('the facts of a card', () => {
  it('shows cores, memory (per worker and in all) and the scheduler address', () => {
    render(
      <ClusterCard
        cluster={cluster('etl', {
          cpu: '4',
          memory: '16Gi',
          workers: { desired: 3, ready: 3, pending: 0 },
          scheduler: { ready: true, address: 'tcp://10.0.0.7:8786' }
        })}
        pending={null}
        maxWorkers={16}
        actions={fakeActions()}
        trans={trans}
        now={Date.parse('2026-11-29T15:03:20Z')}
      />
    );
    const fact = (term: string) =>
      screen.getByText(term, { selector: 'dt' }).nextElementSibling
        ?.textContent;
    expect(fact('Cores')).toBe('12 (4 per worker)');
    expect(fact('Memory')).toBe('48 GiB (16 GiB per worker)');
    expect(fact('Scheduler')).toBe('tcp://10.0.0.7:8786');
  });

  it('reads the quantities Kubernetes writes, and leaves out what it cannot read', () => {
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('2Gi')).toBe(2 ** 31);
    expect(parseQuantity('1e9')).toBe(1e9);
    expect(parseQuantity('lots')).toBeNull();
    expect(parseQuantity(null)).toBeNull();
    render(
      <ClusterCard
        cluster={cluster('x', { cpu: null, memory: 'lots' })}
        pending={null}
        maxWorkers={16}
        actions={fakeActions()}
        trans={trans}
        now={0}
      />
    );
    expect(screen.queryByText('Cores', { selector: 'dt' })).toBeNull();
    expect(screen.queryByText('Memory', { selector: 'dt' })).toBeNull();
  });
});
