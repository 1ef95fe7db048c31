/**
 * The Jobs section of the sidebar: each batch job with its phase (the operator's job phases),
 * start, duration, error and actions (logs, the executed copy, cancel or delete).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { JobListModel } from '../jobsModel';
import { IJob, IJobActions, isFinished } from '../jobTokens';
import { formatAge } from './format';

/** "42 s", "3 min 5 s", "1 h 2 min" between two ISO dates (the end: now). */
export function formatDuration(
  start: string | null,
  end: string | null,
  now: number = Date.now()
): string {
  const from = start ? Date.parse(start) : NaN;
  if (isNaN(from)) {
    return '';
  }
  const to = end ? Date.parse(end) : now;
  const seconds = Math.max(0, Math.round((to - from) / 1000));
  if (seconds < 60) {
    return `${seconds} s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ${seconds % 60} s`;
  }
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export interface IJobCardProps {
  job: IJob;
  actions: IJobActions;
  trans: TranslationBundle;
  now?: number;
}

export function JobCard(props: IJobCardProps): JSX.Element {
  const { job, actions, trans } = props;
  const finished = isFinished(job);
  const duration = formatDuration(job.started, job.finished, props.now);
  return (
    <li
      className="jp-RapidsKF-jobCard"
      data-job-name={job.name}
      data-phase={job.phase}
      aria-label={trans.__('Job %1', job.name)}
    >
      <div className="jp-RapidsKF-cardHeader">
        <span className="jp-RapidsKF-cardName" title={job.name}>
          {job.name}
        </span>
        <span
          className={`jp-RapidsKF-phase jp-mod-${jobPhaseClass(job)}`}
          data-testid="job-phase"
        >
          {job.phase}
        </span>
      </div>
      <div className="jp-RapidsKF-jobFacts">
        <span title={job.file}>{job.file}</span>
        <span>
          {job.gpus_per_worker > 0
            ? trans._n(
                '%1 worker, %2 GPU each',
                '%1 workers, %2 GPUs each',
                job.workers,
                job.gpus_per_worker
              )
            : trans._n('%1 worker', '%1 workers', job.workers)}
        </span>
        {job.started && (
          <span>
            {trans.__(
              'started %1 ago',
              formatAge(job.started, trans, props.now)
            )}
            {duration &&
              (finished
                ? trans.__(', took %1', duration)
                : trans.__(', running for %1', duration))}
          </span>
        )}
      </div>
      {job.error && (
        <div className="jp-RapidsKF-error" role="alert">
          {job.error}
        </div>
      )}
      {job.reasons.length > 0 && (
        <ul className="jp-RapidsKF-reasons">
          {job.reasons.map(r => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      )}
      <div className="jp-RapidsKF-actions">
        <button
          type="button"
          className="jp-RapidsKF-button"
          onClick={() => actions.showLogs(job.name)}
        >
          {trans.__('Logs')}
        </button>
        {job.output && (
          <button
            type="button"
            className="jp-RapidsKF-button"
            title={job.output}
            onClick={() => actions.openOutput(job.output!)}
          >
            {trans.__('Open output')}
          </button>
        )}
        <button
          type="button"
          className="jp-RapidsKF-button"
          disabled={job.phase === 'Deleting'}
          onClick={() => actions.remove(job)}
        >
          {finished ? trans.__('Delete') : trans.__('Cancel')}
        </button>
      </div>
    </li>
  );
}

function jobPhaseClass(job: IJob): string {
  switch (job.phase) {
    case 'Successful':
    case 'Running':
      return 'running';
    case 'Failed':
      return 'failed';
    case 'Deleting':
      return 'deleting';
    default:
      return 'pending';
  }
}

export interface IJobListProps {
  model: JobListModel;
  actions: IJobActions;
  trans: TranslationBundle;
}

export function JobList(props: IJobListProps): JSX.Element {
  const { model, actions, trans } = props;
  const [, setTick] = React.useState(0);
  React.useEffect(() => {
    const update = () => setTick(t => t + 1);
    model.changed.connect(update);
    const timer = setInterval(update, 1000); // durations of running jobs
    void model.refresh();
    return () => {
      model.changed.disconnect(update);
      clearInterval(timer);
    };
  }, [model]);
  const jobs = model.jobs;
  return (
    <section
      className="jp-RapidsKF-jobs"
      aria-label={trans.__('Jobs')}
      data-testid="jobs"
    >
      <div className="jp-RapidsKF-jobsHeader">
        <h3>{trans.__('Jobs')}</h3>
        <button
          type="button"
          className="jp-RapidsKF-button"
          onClick={() => actions.runCurrentNotebook()}
          title={trans.__(
            'Run the open notebook as a batch job on its own cluster'
          )}
        >
          {trans.__('Run as GPU job')}
        </button>
      </div>
      {model.error && (
        <div className="jp-RapidsKF-error" role="alert">
          {model.error}
        </div>
      )}
      {jobs.length === 0 && !model.error ? (
        <p className="jp-RapidsKF-muted">
          {trans.__(
            'No jobs. Right-click a notebook or .py file and choose Run as GPU job.'
          )}
        </p>
      ) : (
        <ul className="jp-RapidsKF-jobList">
          {jobs.map(job => (
            <JobCard key={job.name} job={job} actions={actions} trans={trans} />
          ))}
        </ul>
      )}
    </section>
  );
}
