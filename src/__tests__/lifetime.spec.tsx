import { nullTranslator } from '@jupyterlab/translation';
import { fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';

import { ClusterCard } from '../components/ClusterCard';
import { initialValues, toRequest } from '../components/clusterForm';
import { NewClusterForm } from '../components/NewClusterForm';
import { ICluster, IEnvironment } from '../tokens';
import { cluster, environment, fakeActions } from './fakes';

const trans = nullTranslator.load('jupyter_rapids_kf');
const NOW = Date.parse('2026-11-29T15:03:20Z');

function card(shown: ICluster) {
  return render(
    <ClusterCard
      cluster={shown}
      pending={null}
      maxWorkers={16}
      actions={fakeActions()}
      trans={trans}
      now={NOW}
    />
  );
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
