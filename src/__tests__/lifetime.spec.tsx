import { nullTranslator } from '@jupyterlab/translation';
import { fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';

import { formatDuration, idleText, lifetimeText } from '../components/Lifetime';
import { initialValues, toRequest } from '../components/clusterForm';
import { NewClusterForm } from '../components/NewClusterForm';
import { ICluster, IEnvironment } from '../tokens';
import { cluster, environment } from './fakes';
import { renderCard } from './renderCard';

const trans = nullTranslator.load('jupyter_rapids_kf');
const NOW = Date.parse('2026-11-29T15:03:20Z');

function card(shown: ICluster) {
  return renderCard(shown, NOW);
}

const KUBE = { backend: 'kubernetes' as const, namespace: 'ns' };

describe('how a cluster ends, on its card', () => {
  it('names the notebook it ends with', () => {
    card(
      cluster('a', { ...KUBE, ends_with: { kind: 'Notebook', name: 'nb' } })
    );
    expect(screen.getByText('ends with notebook nb')).toBeTruthy();
  });

  it('says so when a Kubernetes cluster is tied to nothing', () => {
    card(cluster('a', { ...KUBE, ends_with: null }));
    expect(screen.getByText(/not tied to a notebook/)).toBeTruthy();
  });

  it('says nothing of notebooks for local clusters or clusters made elsewhere', () => {
    card(cluster('a'));
    card(cluster('b', { ...KUBE, managed: false }));
    expect(screen.queryByText(/notebook/)).toBeNull();
  });
});

describe('the idle countdown', () => {
  const idle = (since: string | null, timeout = 3600) =>
    cluster('a', { idle_timeout: timeout, idle_since: since });

  it('counts down from the time the scheduler became idle', () => {
    // Idle since 14:51:20, 12 minutes before NOW: 48 minutes left of an hour.
    expect(idleText(idle('2026-11-29T14:51:20Z'), trans, NOW)).toBe(
      'stops in 48 min if still idle'
    );
    card(idle('2026-11-29T14:51:20Z'));
    expect(screen.getByText('stops in 48 min if still idle')).toBeTruthy();
  });

  it('says the timeout while the cluster works, and nothing without one', () => {
    expect(idleText(idle(null), trans, NOW)).toBe(
      'stops after 1 h without work'
    );
    expect(idleText(idle(null, 0), trans, NOW)).toBeNull();
  });

  it('ticks with the clock and never shows a negative time', () => {
    const shown = idle('2026-11-29T14:03:00Z'); // idle for 1 h 0 min 20 s
    expect(idleText(shown, trans, NOW)).toBe('stopping: idle for 1 h');
    expect(idleText(shown, trans, Date.parse('2026-11-29T15:02:30Z'))).toBe(
      'stops in 30 s if still idle'
    );
  });
});

describe('the maximum lifetime', () => {
  it('counts down from creation, busy or not', () => {
    const shown = cluster('a', { ...KUBE, lifetime: 4 * 3600 });
    expect(lifetimeText(shown, trans, NOW)).toBe(
      'deleted in 3 h 57 min, busy or not'
    );
    expect(lifetimeText(cluster('b', KUBE), trans, NOW)).toBeNull();
    expect(lifetimeText({ ...shown, lifetime: 60 }, trans, NOW)).toBe(
      'lifetime over: being deleted'
    );
  });

  it('formats durations plainly', () => {
    expect(
      [45, 60, 61, 3600, 3660, 86400, 90000].map(s => formatDuration(s, trans))
    ).toEqual(['45 s', '1 min', '2 min', '1 h', '1 h 1 min', '1 d', '1 d 1 h']);
  });
});

describe('the New cluster form can untie one cluster', () => {
  const tied: Partial<IEnvironment> = {
    ends_with: { kind: 'Notebook', name: 'nb' },
    defaults: { ...environment().defaults, tie_to_notebook: true }
  };

  it('offers the notebook, ticked by default, and sends false only when unticked', () => {
    const env = environment(tied);
    let values = initialValues(env);
    const onChange = jest.fn((field, value) => {
      values = { ...values, [field]: value };
    });
    render(
      <NewClusterForm
        environment={env}
        values={values}
        errors={{}}
        busy={false}
        trans={trans}
        onChange={onChange}
      />
    );
    const box = screen.getByLabelText(
      'End with notebook nb'
    ) as HTMLInputElement;
    expect(box.checked).toBe(true);
    expect(toRequest(values, env)).toEqual({ name: 'gpu-etl-7f3c' });
    fireEvent.click(box);
    expect(onChange).toHaveBeenCalledWith('tie_to_notebook', 'no');
    expect(toRequest(values, env)).toEqual({
      name: 'gpu-etl-7f3c',
      tie_to_notebook: false
    });
  });

  it('sends a lifetime only when changed, and offers it on Kubernetes only', () => {
    const env = environment(tied);
    const values = initialValues(env);
    expect(values.lifetime).toBe('0');
    expect(toRequest({ ...values, lifetime: '7200' }, env)).toEqual({
      name: 'gpu-etl-7f3c',
      lifetime: 7200
    });
    render(
      <NewClusterForm
        environment={environment({ backend: 'local' })}
        values={values}
        errors={{}}
        busy={false}
        trans={trans}
        onChange={jest.fn()}
      />
    );
    expect(screen.queryByLabelText('Lifetime (seconds)')).toBeNull();
  });

  it('offers nothing where no notebook was found', () => {
    const env = environment();
    render(
      <NewClusterForm
        environment={env}
        values={initialValues(env)}
        errors={{}}
        busy={false}
        trans={trans}
        onChange={jest.fn()}
      />
    );
    expect(screen.queryByLabelText(/End with/)).toBeNull();
  });
});
