/**
 * A cluster's start-up: compact on the card while it starts (what it waits for, and about how
 * long is left), and a "Start-up" view afterwards with every step and how long it took.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { ICluster, IClusterActions, ITimeline, ITimelineStep } from '../tokens';
import { formatDuration } from './Lifetime';

const STARTING = ['Creating', 'Pending', 'Scaling'];
const POLL_MS = 2000;

function stepWords(step: ITimelineStep, trans: TranslationBundle): string {
  const words: Record<ITimelineStep['step'], string> = {
    accepted: trans.__('accepted'),
    scheduled: trans.__('placed on a node'),
    image: trans.__('image'),
    started: trans.__('started'),
    ready: trans.__('ready'),
    registered: trans.__('registered with the scheduler')
  };
  return words[step.step];
}

function who(step: ITimelineStep, trans: TranslationBundle): string {
  if (step.component === 'cluster') {
    return trans.__('cluster');
  }
  return step.component === 'scheduler'
    ? trans.__('scheduler')
    : trans.__('worker %1', shortPod(step.pod));
}

/** The part of a worker pod's name that tells workers apart. */
export function shortPod(pod: string | null): string {
  if (!pod) {
    return '';
  }
  const parts = pod.split('-worker-');
  return parts.length > 1
    ? parts[parts.length - 1]
    : pod.replace(/^worker /, ''); // local processes are "worker 0", "worker 1", ...
}

/** What a starting cluster waits for, in a few lines, with the ETA first. */
export function startingLines(
  timeline: ITimeline,
  trans: TranslationBundle
): string[] {
  const lines: string[] = [];
  const elapsed = formatDuration(timeline.elapsed, trans, true);
  lines.push(
    timeline.eta_seconds !== null
      ? trans.__(
          'starting for %1, about %2 left',
          elapsed,
          formatDuration(timeline.eta_seconds, trans)
        )
      : trans.__('starting for %1', elapsed)
  );
  const pending = timeline.steps.filter(
    s => s.state === 'waiting' || s.state === 'failed'
  );
  const seen = new Set<string>();
  for (const step of pending) {
    const text = `${stepWords(step, trans)}: ${step.detail || trans.__('waiting')}`;
    const key = `${step.component} ${text}`;
    if (seen.has(key)) {
      continue;
    }
    seen.add(key);
    const same = pending.filter(
      s =>
        s.component === step.component &&
        `${stepWords(s, trans)}: ${s.detail || trans.__('waiting')}` === text
    ).length;
    lines.push(
      same > 1
        ? trans.__('%1 %2s: %3', same, step.component, text)
        : `${who(step, trans)}: ${text}`
    );
  }
  return lines.slice(0, 4);
}

function StepsTable(props: {
  timeline: ITimeline;
  trans: TranslationBundle;
}): JSX.Element {
  const { timeline, trans } = props;
  return (
    <table className="jp-RapidsKF-timelineTable">
      <caption>
        {timeline.seconds !== null
          ? trans.__(
              'Started in %1',
              formatDuration(timeline.seconds, trans, true)
            )
          : trans.__('Still starting')}
      </caption>
      <thead>
        <tr>
          <th scope="col">{trans.__('Part')}</th>
          <th scope="col">{trans.__('Step')}</th>
          <th scope="col">{trans.__('Took')}</th>
        </tr>
      </thead>
      <tbody>
        {timeline.steps.map((step, index) => (
          <tr key={index} className={`jp-RapidsKF-step-${step.state}`}>
            <td>{who(step, trans)}</td>
            <td>
              {stepWords(step, trans)}
              {step.detail && (
                <div className="jp-RapidsKF-stepDetail">{step.detail}</div>
              )}
            </td>
            <td>
              {step.state === 'done' && step.seconds !== null
                ? formatDuration(step.seconds, trans, true)
                : step.state === 'done'
                  ? ''
                  : trans.__(step.state)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function StartupTimeline(props: {
  cluster: ICluster;
  actions: IClusterActions;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { cluster, actions, trans } = props;
  const starting = STARTING.includes(cluster.phase);
  const [timeline, setTimeline] = React.useState<ITimeline | null>(null);
  const [open, setOpen] = React.useState(false);
  const [error, setError] = React.useState('');
  const load = actions.timeline;

  React.useEffect(() => {
    if (!load || !(starting || open)) {
      return;
    }
    let alive = true;
    const read = () =>
      load(cluster.name).then(
        found => alive && (setTimeline(found), setError('')),
        (err: Error) => alive && setError(err.message)
      );
    void read();
    const timer = starting ? setInterval(read, POLL_MS) : undefined;
    return () => {
      alive = false;
      if (timer) {
        clearInterval(timer);
      }
    };
  }, [cluster.name, starting, open, load]);

  if (!load) {
    return null;
  }
  return (
    <div className="jp-RapidsKF-timeline">
      {starting && timeline && (
        <ul
          className="jp-RapidsKF-timelineNow"
          aria-label={trans.__('Start-up of %1', cluster.name)}
        >
          {startingLines(timeline, trans).map(line => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      )}
      <button
        type="button"
        className="jp-RapidsKF-button jp-RapidsKF-linkButton"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        {trans.__('Start-up')}
      </button>
      {open && error && <div className="jp-RapidsKF-error">{error}</div>}
      {open && timeline && <StepsTable timeline={timeline} trans={trans} />}
    </div>
  );
}
