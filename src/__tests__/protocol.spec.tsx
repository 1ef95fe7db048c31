import { Dialog } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';
import {
  act,
  fireEvent,
  render,
  screen,
  waitFor
} from '@testing-library/react';
import * as React from 'react';

import { ClusterCard } from '../components/ClusterCard';
import {
  initialValues,
  toRequest,
  withProfile
} from '../components/clusterForm';
import { IClusterRequest } from '../tokens';
import { NewClusterDialog } from '../widgets/NewClusterDialog';
import { cluster, environment, fakeActions } from './fakes';

const trans = nullTranslator.load('jupyter_rapids_kf');

describe('the protocol between GPU workers', () => {
  it('is sent only when the user picks UCX for a GPU cluster', () => {
    const env = environment({ protocols: ['tcp', 'ucx'] });
    const values = initialValues(env);
    expect(values.protocol).toBe('tcp');
    expect(toRequest(values, env)).toEqual({ name: 'gpu-etl-7f3c' });
    expect(toRequest({ ...values, protocol: 'ucx' }, env)).toEqual({
      name: 'gpu-etl-7f3c',
      protocol: 'ucx'
    });
    // 0 GPUs: a CPU cluster talks TCP, whatever the select said before.
    expect(
      toRequest({ ...values, gpus_per_worker: '0', protocol: 'ucx' }, env)
    ).toEqual({ name: 'gpu-etl-7f3c', gpus_per_worker: 0 });
  });

  it("undoes a profile's UCX when the user makes it a CPU cluster", () => {
    const env = environment({
      protocols: ['tcp', 'ucx'],
      profiles: [
        {
          name: 'ucx',
          title: 'UCX',
          request: { gpus_per_worker: 2, protocol: 'ucx' }
        }
      ]
    });
    const values = withProfile(initialValues(env), env, 'ucx');
    expect(values.protocol).toBe('ucx');
    expect(toRequest(values, env)).toEqual({
      name: 'gpu-etl-7f3c',
      profile: 'ucx'
    });
    expect(toRequest({ ...values, gpus_per_worker: '0' }, env)).toEqual({
      name: 'gpu-etl-7f3c',
      profile: 'ucx',
      gpus_per_worker: 0,
      protocol: 'tcp'
    });
  });
});

describe('the protocol choice in the dialog', () => {
  const show = (dialog: NewClusterDialog) => {
    const result = dialog.launch();
    dialog.node.setAttribute('open', '');
    return result;
  };
  afterEach(() => Dialog.flush());

  it('shows for GPU clusters only, and creates a UCX cluster', async () => {
    const requests: IClusterRequest[] = [];
    const create = jest.fn(async (request: IClusterRequest) => {
      requests.push(request);
      return cluster(request.name!, { phase: 'Creating' });
    });
    const dialog = new NewClusterDialog({
      environment: environment({ protocols: ['tcp', 'ucx'] }),
      trans,
      create
    });
    const result = show(dialog);
    await waitFor(() => expect(screen.getByLabelText('Name')).toBeTruthy());
    const choice = screen.getByLabelText(
      'Between workers'
    ) as HTMLSelectElement;
    expect(Array.from(choice.options).map(o => o.value)).toEqual([
      'tcp',
      'ucx'
    ]);
    fireEvent.change(screen.getByLabelText('GPUs per worker'), {
      target: { value: '0' }
    });
    await waitFor(() =>
      expect(screen.queryByLabelText('Between workers')).toBeNull()
    );
    fireEvent.change(screen.getByLabelText('GPUs per worker'), {
      target: { value: '2' }
    });
    await waitFor(() =>
      expect(screen.getByLabelText('Between workers')).toBeTruthy()
    );
    fireEvent.change(screen.getByLabelText('Between workers'), {
      target: { value: 'ucx' }
    });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    });
    await result;
    expect(requests).toEqual([
      { name: 'gpu-etl-7f3c', gpus_per_worker: 2, protocol: 'ucx' }
    ]);
  });

  it('offers TCP alone, and says why, where the server has no UCX', async () => {
    const dialog = new NewClusterDialog({
      environment: environment({ protocols: ['tcp'] }),
      trans,
      create: jest.fn()
    });
    show(dialog).catch(() => undefined);
    await waitFor(() => expect(screen.getByLabelText('Name')).toBeTruthy());
    const choice = screen.getByLabelText(
      'Between workers'
    ) as HTMLSelectElement;
    expect(Array.from(choice.options).map(o => o.value)).toEqual(['tcp']);
    expect(screen.getByText(/UCX is not installed here/)).toBeTruthy();
    dialog.reject();
  });
});

describe('the card of a UCX cluster', () => {
  it('shows the UCX address of the scheduler beside its TCP one', () => {
    render(
      <ClusterCard
        cluster={cluster('etl', {
          protocol: 'ucx',
          scheduler: {
            ready: true,
            address: 'tcp://etl-scheduler.ns:8786',
            ucx_address: 'ucx://etl-scheduler.ns:8789'
          }
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
    expect(fact('Scheduler')).toBe('tcp://etl-scheduler.ns:8786');
    expect(fact('Scheduler (UCX)')).toBe('ucx://etl-scheduler.ns:8789');
  });
});
