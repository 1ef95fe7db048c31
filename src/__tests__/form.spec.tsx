import { Dialog } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';
import { act, fireEvent, screen, waitFor } from '@testing-library/react';

import { APIError } from '../api';
import {
  errorsFromServer,
  initialValues,
  toRequest,
  validate,
  withProfile
} from '../components/clusterForm';
import { IClusterRequest } from '../tokens';
import { NewClusterDialog } from '../widgets/NewClusterDialog';
import { cluster, environment } from './fakes';

const trans = nullTranslator.load('jupyter_rapids_kf');

describe('the New GPU cluster form rules', () => {
  it('starts from the server defaults and sends only the name when nothing changed', () => {
    const env = environment();
    const values = initialValues(env);
    expect(values).toMatchObject({
      name: 'gpu-etl-7f3c',
      workers: '2',
      gpus_per_worker: '1',
      image: 'rapidsai/base:26.10-cuda13-py3.12',
      idle_timeout: '3600'
    });
    expect(validate(values, env, trans)).toEqual({});
    expect(toRequest(values, env)).toEqual({ name: 'gpu-etl-7f3c' });
  });

  it('sends what the user changed, environment variables as an object', () => {
    const env = environment();
    const values = {
      ...initialValues(env),
      workers: '4',
      memory: '32Gi',
      env: 'RMM_POOL=1\n\n  DEBUG = yes '
    };
    expect(toRequest(values, env)).toEqual({
      name: 'gpu-etl-7f3c',
      workers: 4,
      memory: '32Gi',
      env: { RMM_POOL: '1', DEBUG: 'yes' }
    });
  });

  it('a profile fills the form; its values are not sent again, changes on top are', () => {
    const env = environment();
    const values = withProfile(initialValues(env), env, 'gpu-large');
    expect(values).toMatchObject({
      workers: '4',
      gpus_per_worker: '4',
      memory: '64Gi',
      name: 'gpu-etl-7f3c'
    });
    expect(toRequest(values, env)).toEqual({
      name: 'gpu-etl-7f3c',
      profile: 'gpu-large'
    });
    expect(toRequest({ ...values, workers: '8' }, env)).toEqual({
      name: 'gpu-etl-7f3c',
      profile: 'gpu-large',
      workers: 8
    });
  });

  it('never sends an image to a backend that takes none', () => {
    const env = environment({
      backend: 'local',
      defaults: { ...environment().defaults, image: null }
    });
    const values = { ...initialValues(env), image: 'evil/image' };
    expect(toRequest(values, env)).toEqual({ name: 'gpu-etl-7f3c' });
    expect(validate(values, env, trans)).toEqual({});
  });

  it('catches what it can before asking the server', () => {
    const env = environment();
    const errors = validate(
      {
        ...initialValues(env),
        name: 'Bad_Name',
        workers: '17',
        gpus_per_worker: '-1',
        idle_timeout: 'soon',
        env: 'NOT AN ASSIGNMENT'
      },
      env,
      trans
    );
    expect(Object.keys(errors).sort()).toEqual(
      ['env', 'gpus_per_worker', 'idle_timeout', 'name', 'workers'].sort()
    );
    expect(errors.workers).toBe('Enter a whole number from 0 to 16.');
    expect(errors.env).toBe('Line 1 is not NAME=value.');
  });

  it('puts a server error next to its field, with the fix', () => {
    expect(
      errorsFromServer(
        new APIError(
          403,
          'limit',
          'gpus_per_worker must be at most 2',
          'gpus_per_worker',
          'ask your administrator'
        ),
        trans
      )
    ).toEqual({
      gpus_per_worker: 'gpus_per_worker must be at most 2',
      fix: 'ask your administrator'
    });
    expect(
      errorsFromServer(
        new APIError(
          409,
          'exists',
          "a cluster named 'x' already exists",
          'name'
        ),
        trans
      )
    ).toEqual({
      name: "a cluster named 'x' already exists. Choose another name."
    });
    expect(
      errorsFromServer(
        new APIError(
          403,
          'limit',
          'this namespace already has 5 clusters',
          undefined,
          'delete a cluster'
        ),
        trans
      )
    ).toEqual({
      form: 'this namespace already has 5 clusters',
      fix: 'delete a cluster'
    });
  });
});

describe('NewClusterDialog', () => {
  // JupyterLab shows its <dialog> with CSS; jsdom's own style hides one without `open`.
  const show = (dialog: NewClusterDialog) => {
    const result = dialog.launch();
    dialog.node.setAttribute('open', '');
    return result;
  };

  afterEach(() => Dialog.flush());

  it('stays open with the error next to the field and the input kept, then closes on success', async () => {
    const requests: IClusterRequest[] = [];
    const create = jest.fn(async (request: IClusterRequest) => {
      requests.push(request);
      if (requests.length === 1) {
        throw new APIError(
          409,
          'exists',
          "a cluster named 'taken' already exists",
          'name'
        );
      }
      return cluster(request.name!, { phase: 'Creating' });
    });
    const dialog = new NewClusterDialog({
      environment: environment(),
      trans,
      create
    });
    const result = show(dialog);
    await waitFor(() => expect(screen.getByLabelText('Name')).toBeTruthy());

    fireEvent.change(screen.getByLabelText('Name'), {
      target: { value: 'taken' }
    });
    fireEvent.change(screen.getByLabelText('Workers'), {
      target: { value: '3' }
    });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    });
    await waitFor(() =>
      expect(screen.getByRole('alert').textContent).toBe(
        "a cluster named 'taken' already exists. Choose another name."
      )
    );
    expect(dialog.isAttached).toBe(true);
    expect((screen.getByLabelText('Name') as HTMLInputElement).value).toBe(
      'taken'
    );
    expect((screen.getByLabelText('Workers') as HTMLInputElement).value).toBe(
      '3'
    );
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBe(
      'true'
    );

    fireEvent.change(screen.getByLabelText('Name'), {
      target: { value: 'free' }
    });
    await waitFor(() => expect(screen.queryByRole('alert')).toBeNull()); // editing clears it
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    });
    const answer = await result;
    expect(answer.button.accept).toBe(true);
    expect(answer.value?.name).toBe('free');
    expect(requests).toEqual([
      { name: 'taken', workers: 3 },
      { name: 'free', workers: 3 }
    ]);
  });

  it('says the worker limit at the field as it is typed, keeps Create usable, sends nothing and focuses the bad field', async () => {
    const create = jest.fn();
    const dialog = new NewClusterDialog({
      environment: environment(),
      trans,
      create
    });
    show(dialog).catch(() => undefined);
    await waitFor(() => expect(screen.getByLabelText('Workers')).toBeTruthy());
    const workers = screen.getByLabelText('Workers') as HTMLInputElement;
    expect(screen.getByText('0 to 16')).toBeTruthy(); // the limit is stated up front
    // What a browser sends while typing: input events (JupyterLab's dialog checks :invalid then).
    fireEvent.input(workers, { target: { value: '17' } });
    fireEvent.change(workers, { target: { value: '17' } });
    await waitFor(() =>
      expect(screen.getByRole('alert').textContent).toBe(
        'Enter a whole number from 0 to 16.'
      )
    );
    expect(dialog.node.querySelector(':invalid')).toBeNull();
    const createButton = screen.getByRole('button', { name: 'Create' });
    expect((createButton as HTMLButtonElement).disabled).toBe(false);
    expect(workers.value).toBe('17');

    screen.getByLabelText('Name').focus();
    await act(async () => {
      fireEvent.click(createButton);
    });
    await waitFor(() => expect(document.activeElement).toBe(workers));
    expect(create).not.toHaveBeenCalled();
    expect(workers.value).toBe('17');
    dialog.reject();
  });

  it('has an accessible name for screen readers', async () => {
    const dialog = new NewClusterDialog({
      environment: environment(),
      trans,
      create: jest.fn()
    });
    show(dialog).catch(() => undefined);
    await waitFor(() =>
      expect(screen.getByRole('dialog', { name: 'New GPU cluster' })).toBe(
        dialog.node
      )
    );
    dialog.reject();
  });

  it('hides the image on the local backend and disables GPUs where there are none', async () => {
    const env = environment({
      backend: 'local',
      defaults: { ...environment().defaults, image: null, gpus_per_worker: 0 },
      limits: { ...environment().limits, max_gpus_per_worker: 0 },
      profiles: []
    });
    const dialog = new NewClusterDialog({
      environment: env,
      trans,
      create: jest.fn()
    });
    show(dialog).catch(() => undefined);
    await waitFor(() => expect(screen.getByLabelText('Name')).toBeTruthy());
    expect(screen.queryByLabelText('Image')).toBeNull();
    expect(screen.queryByLabelText('Profile')).toBeNull();
    expect(
      (screen.getByLabelText('GPUs per worker') as HTMLInputElement).disabled
    ).toBe(true);
    expect(screen.getByText('No GPUs here: workers use the CPU.')).toBeTruthy();
    dialog.reject();
  });

  it('says which Kueue queue a new cluster waits in, and nothing without one', async () => {
    const dialog = new NewClusterDialog({
      environment: environment({ queue: 'team-a' }),
      trans,
      create: jest.fn()
    });
    show(dialog).catch(() => undefined);
    await waitFor(() => expect(screen.getByLabelText('Name')).toBeTruthy());
    expect(
      screen.getByText(
        'Waits for quota in Kueue queue team-a: if the GPUs are taken, the cluster starts when its turn comes.'
      )
    ).toBeTruthy();
    dialog.reject();
    const plain = new NewClusterDialog({
      environment: environment(),
      trans,
      create: jest.fn()
    });
    show(plain).catch(() => undefined);
    await waitFor(() => expect(screen.getByLabelText('Name')).toBeTruthy());
    expect(screen.queryByText(/Kueue queue/)).toBeNull();
    plain.reject();
  });
});
