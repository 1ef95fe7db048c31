import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';
import { act, fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';

import { formatDuration, JobCard, JobList } from '../components/JobList';
import { LogView } from '../components/LogView';
import { initialValues, RunJobForm, toRequest } from '../components/RunJobForm';
import { createJob, deleteJob, exportPipeline, getJobLogs } from '../jobsApi';
import { JobListModel } from '../jobsModel';
import { IJob, IJobActions } from '../jobTokens';
import { environment } from './fakes';

const trans = nullTranslator.load('jupyter_rapids_kf');
const NOW = Date.parse('2026-12-04T06:10:00Z');

function job(name: string, overrides: Partial<IJob> = {}): IJob {
  return {
    name,
    namespace: 'kubeflow-user',
    backend: 'kubernetes',
    file: 'work/etl.ipynb',
    phase: 'Running',
    created: '2026-12-04T06:00:00Z',
    started: '2026-12-04T06:00:30Z',
    finished: null,
    workers: 2,
    gpus_per_worker: 1,
    image: 'rapidsai/base:26.10',
    parameters: {},
    output: null,
    error: null,
    reasons: [],
    ...overrides
  };
}

function fakeActions(): IJobActions {
  return {
    runCurrentNotebook: jest.fn(),
    showLogs: jest.fn(),
    openOutput: jest.fn(),
    remove: jest.fn()
  };
}

class FakeEvents {
  serverEvent = new Signal<any, { event: string; data: any }>(this);
  statusChanged = new Signal<any, string>(this);
}

function fakeApi(jobs: IJob[]) {
  return {
    listJobs: jest.fn(async () => jobs),
    createJob: jest.fn(async (body: any) => job('new-1', { file: body.path })),
    deleteJob: jest.fn(async (name: string) => job(name, { phase: 'Deleting' }))
  };
}

describe('JobListModel', () => {
  it('lists jobs newest first and follows job events of the stream', async () => {
    const events = new FakeEvents();
    const api = fakeApi([
      job('old', { created: '2026-12-04T05:00:00Z' }),
      job('new', { created: '2026-12-04T06:00:00Z' })
    ]);
    const model = new JobListModel({ events, api });
    await model.refresh();
    expect(model.jobs.map(j => j.name)).toEqual(['new', 'old']);

    events.serverEvent.emit({
      event: 'job',
      data: job('new', { phase: 'Successful', output: 'work/etl.new.ipynb' })
    });
    expect(model.jobs[0].phase).toBe('Successful');
    events.serverEvent.emit({ event: 'job-deleted', data: { name: 'old' } });
    expect(model.jobs.map(j => j.name)).toEqual(['new']);
    events.serverEvent.emit({ event: 'cluster', data: { name: 'x' } });
    expect(model.jobs).toHaveLength(1);

    // A reconnected stream may have missed events: the list is read again.
    events.statusChanged.emit('live');
    await Promise.resolve();
    expect(api.listJobs).toHaveBeenCalledTimes(2);
  });

  it('shows a cancelled job as Deleting until the server says it is gone', async () => {
    const events = new FakeEvents();
    const model = new JobListModel({ events, api: fakeApi([job('a')]) });
    await model.refresh();
    await model.remove('a');
    expect(model.jobs[0].phase).toBe('Deleting');
    events.serverEvent.emit({ event: 'job-deleted', data: { name: 'a' } });
    expect(model.jobs).toEqual([]);
  });

  it('says why the list cannot be read', async () => {
    const api = fakeApi([]);
    api.listJobs.mockRejectedValue(new Error('the server does not answer'));
    const model = new JobListModel({ api });
    await model.refresh();
    expect(model.error).toBe('the server does not answer');
  });
});

describe('JobCard', () => {
  it('shows a running job with its shape, start, duration and Cancel', () => {
    const actions = fakeActions();
    render(
      <JobCard job={job('etl-1')} actions={actions} trans={trans} now={NOW} />
    );
    expect(screen.getByTestId('job-phase').textContent).toBe('Running');
    expect(screen.getByText('2 workers, 1 GPUs each')).toBeTruthy();
    expect(
      screen.getByText(/started 9 min ago, running for 9 min 30 s/)
    ).toBeTruthy();
    expect(screen.queryByText('Open output')).toBeNull();
    fireEvent.click(screen.getByText('Cancel'));
    expect(actions.remove).toHaveBeenCalledWith(
      expect.objectContaining({ name: 'etl-1' })
    );
    fireEvent.click(screen.getByText('Logs'));
    expect(actions.showLogs).toHaveBeenCalledWith('etl-1');
  });

  it('shows a failed job with the failing cell error, its executed copy and Delete', () => {
    const actions = fakeActions();
    render(
      <JobCard
        job={job('etl-2', {
          phase: 'Failed',
          finished: '2026-12-04T06:02:00Z',
          output: 'work/etl.etl-2.ipynb',
          error: 'ZeroDivisionError: division by zero'
        })}
        actions={actions}
        trans={trans}
        now={NOW}
      />
    );
    expect(screen.getByRole('alert').textContent).toBe(
      'ZeroDivisionError: division by zero'
    );
    expect(screen.getByText(/took 1 min 30 s/)).toBeTruthy();
    fireEvent.click(screen.getByText('Open output'));
    expect(actions.openOutput).toHaveBeenCalledWith('work/etl.etl-2.ipynb');
    expect(screen.getByText('Delete')).toBeTruthy();
  });

  it('cannot cancel twice while the job is being deleted', () => {
    render(
      <JobCard
        job={job('a', { phase: 'Deleting' })}
        actions={fakeActions()}
        trans={trans}
      />
    );
    expect((screen.getByText('Cancel') as HTMLButtonElement).disabled).toBe(
      true
    );
  });
});

describe('JobList', () => {
  it('lists the jobs of the model and offers to run the open notebook', async () => {
    const actions = fakeActions();
    const model = new JobListModel({
      api: fakeApi([job('etl-1'), job('etl-2')])
    });
    render(<JobList model={model} actions={actions} trans={trans} />);
    await act(async () => {
      await model.refresh();
    });
    expect(document.querySelectorAll('[data-job-name]')).toHaveLength(2);
    fireEvent.click(screen.getByText('Run as GPU job'));
    expect(actions.runCurrentNotebook).toHaveBeenCalled();
  });

  it('says how to start when there is no job', async () => {
    const model = new JobListModel({ api: fakeApi([]) });
    render(<JobList model={model} actions={fakeActions()} trans={trans} />);
    await act(async () => {
      await model.refresh();
    });
    expect(screen.getByText(/Right-click a notebook or .py file/)).toBeTruthy();
  });
});

describe('the job form', () => {
  const values = {
    workers: '3',
    gpus: '1',
    profile: '',
    parameters: '{"rows": 10}'
  };

  it('turns the values into a job request', () => {
    expect(toRequest('etl.ipynb', values, trans)).toEqual({
      path: 'etl.ipynb',
      parameters: { rows: 10 },
      cluster: { workers: 3, gpus_per_worker: 1 }
    });
    expect(
      toRequest('etl.ipynb', { ...values, profile: 'gpu-small' }, trans)
    ).toEqual({
      path: 'etl.ipynb',
      parameters: { rows: 10 },
      cluster: { profile: 'gpu-small' }
    });
  });

  it('refuses parameters that are not a JSON object and odd sizes', () => {
    expect(toRequest('a.py', { ...values, parameters: '[1]' }, trans)).toMatch(
      /JSON object/
    );
    expect(toRequest('a.py', { ...values, parameters: '{x' }, trans)).toMatch(
      /JSON object/
    );
    expect(toRequest('a.py', { ...values, workers: '1.5' }, trans)).toMatch(
      /Workers/
    );
  });

  it('starts from the environment and holds the admin limits (job and pipeline alike)', () => {
    const env = environment();
    const onChange = jest.fn();
    const values = initialValues(env);
    expect(values).toEqual({
      workers: '2',
      gpus: '1',
      profile: '',
      parameters: '{}'
    });
    const { container, rerender } = render(
      <RunJobForm
        path="etl.ipynb"
        environment={env}
        trans={trans}
        values={values}
        onChange={onChange}
      />
    );
    const workers = container.querySelector(
      'input[name="workers"]'
    ) as HTMLInputElement;
    const gpus = container.querySelector(
      'input[name="gpus"]'
    ) as HTMLInputElement;
    // The dialog's button stays disabled while an input is out of range.
    expect([workers.max, gpus.max]).toEqual(['16', '8']);
    fireEvent.change(workers, { target: { value: '99' } });
    expect(onChange).toHaveBeenLastCalledWith({ ...values, workers: '99' });
    rerender(
      <RunJobForm
        path="etl.ipynb"
        environment={env}
        trans={trans}
        values={{ ...values, workers: '99' }}
        onChange={onChange}
      />
    );
    expect(workers.checkValidity()).toBe(false);

    // A profile gives the size: the size fields are off.
    fireEvent.change(container.querySelector('select')!, {
      target: { value: 'gpu-large' }
    });
    expect(onChange).toHaveBeenLastCalledWith({
      ...values,
      workers: '99',
      profile: 'gpu-large'
    });
    rerender(
      <RunJobForm
        path="etl.ipynb"
        environment={env}
        trans={trans}
        values={{ ...values, profile: 'gpu-large' }}
        onChange={onChange}
      />
    );
    expect(workers.disabled && gpus.disabled).toBe(true);

    // The local backend has no GPUs per worker to choose, nor profiles when none are set.
    rerender(
      <RunJobForm
        path="etl.ipynb"
        environment={environment({ backend: 'local', profiles: [] })}
        trans={trans}
        values={values}
        onChange={onChange}
      />
    );
    expect(container.querySelector('input[name="gpus"]')).toBeNull();
    expect(container.querySelector('select')).toBeNull();
  });

  it('formats durations', () => {
    expect(formatDuration('2026-12-04T06:00:00Z', '2026-12-04T06:00:42Z')).toBe(
      '42 s'
    );
    expect(formatDuration('2026-12-04T06:00:00Z', '2026-12-04T07:02:00Z')).toBe(
      '1 h 2 min'
    );
    expect(formatDuration(null, null)).toBe('');
  });
});

describe('jobs api', () => {
  function fakeServer(status: number, body: unknown) {
    const requests: { url: string; method: string; body: string }[] = [];
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/user/x/',
      fetch: (async (input: Request) => {
        requests.push({
          url: input.url,
          method: input.method,
          body: await input.text()
        });
        return new Response(JSON.stringify(body), { status });
      }) as any
    });
    return { settings, requests };
  }

  it('calls the jobs and pipelines routes', async () => {
    const { settings, requests } = fakeServer(202, job('a'));
    await createJob({ path: 'etl.ipynb', parameters: { n: 1 } }, settings);
    await deleteJob('a', settings);
    expect(requests.map(r => [r.method, r.url.split('?')[0]])).toEqual([
      ['POST', 'http://localhost:8888/user/x/rapids-kf/jobs'],
      ['DELETE', 'http://localhost:8888/user/x/rapids-kf/jobs/a']
    ]);
    expect(JSON.parse(requests[0].body)).toEqual({
      path: 'etl.ipynb',
      parameters: { n: 1 }
    });
    const logs = fakeServer(200, { lines: ['x'] });
    expect(await getJobLogs('a', 50, logs.settings)).toEqual(['x']);
    expect(logs.requests[0].url.replace(/&?\d{10,}/, '')).toBe(
      'http://localhost:8888/user/x/rapids-kf/jobs/a/logs?tail=50'
    );
    const exported = fakeServer(201, {
      path: 'etl.pipeline.yaml',
      component: 'c',
      image: 'i',
      bytes: 1
    });
    expect(
      (await exportPipeline({ path: 'etl.ipynb' }, exported.settings)).path
    ).toBe('etl.pipeline.yaml');
  });

  it('reports the server error with its field', async () => {
    const { settings } = fakeServer(400, {
      error: {
        code: 'invalid',
        message: 'path must end in .ipynb or .py',
        field: 'path'
      }
    });
    await expect(createJob({ path: 'x.txt' }, settings)).rejects.toMatchObject({
      status: 400,
      field: 'path'
    });
  });
});

describe('a job log', () => {
  it('follows the job: reloads while shown, and stops when closed', async () => {
    jest.useFakeTimers();
    const load = jest.fn(async () => [
      {
        pod: 'etl-1-runner',
        component: 'job' as const,
        lines: ['rapids-kf: running etl.ipynb']
      }
    ]);
    const view = render(
      <LogView
        cluster="etl-1"
        trans={trans}
        components={['job']}
        refreshEvery={3000}
        load={load}
      />
    );
    await act(async () => {
      await Promise.resolve();
    });
    expect(screen.queryByText('Component')).toBeNull(); // one process: nothing to choose
    expect(load).toHaveBeenCalledTimes(1);
    await act(async () => {
      jest.advanceTimersByTime(6000);
    });
    expect(load).toHaveBeenCalledTimes(3);
    view.unmount();
    jest.advanceTimersByTime(6000);
    expect(load).toHaveBeenCalledTimes(3);
    jest.useRealTimers();
  });
});
