/**
 * Recent log lines of a cluster's scheduler or workers, one section per process (pod).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IPodLogs } from '../tokens';

export type LogComponent = 'scheduler' | 'worker' | 'job';

export interface ILogViewProps {
  cluster: string;
  trans: TranslationBundle;
  load: (component: LogComponent, tail: number) => Promise<IPodLogs[]>;
  /** The processes to choose from (a job's log has only its runner). */
  components?: LogComponent[];
  /** Reload every this many ms (a running job's log follows it); off when absent. */
  refreshEvery?: number;
}

export function LogView(props: ILogViewProps): JSX.Element {
  const { trans } = props;
  const choices = props.components ?? ['scheduler', 'worker'];
  const [component, setComponent] = React.useState<LogComponent>(choices[0]);
  const [tail, setTail] = React.useState(200);
  const [logs, setLogs] = React.useState<IPodLogs[] | null>(null);
  const [error, setError] = React.useState('');
  const [loading, setLoading] = React.useState(false);

  const reload = React.useCallback(async () => {
    setLoading(true);
    try {
      setLogs(await props.load(component, tail));
      setError('');
    } catch (err) {
      setError((err as Error).message);
    }
    setLoading(false);
  }, [component, tail, props.load]);

  React.useEffect(() => {
    void reload();
  }, [reload]);

  React.useEffect(() => {
    if (!props.refreshEvery) {
      return;
    }
    const timer = setInterval(() => void reload(), props.refreshEvery);
    return () => clearInterval(timer);
  }, [reload, props.refreshEvery]);

  return (
    <div className="jp-RapidsKF-logs">
      <div className="jp-RapidsKF-logsBar">
        {choices.length > 1 && (
          <label>
            {trans.__('Component')}
            <select
              className="jp-mod-styled"
              value={component}
              onChange={event =>
                setComponent(event.target.value as LogComponent)
              }
            >
              <option value="scheduler">{trans.__('Scheduler')}</option>
              <option value="worker">{trans.__('Workers')}</option>
            </select>
          </label>
        )}
        <label>
          {trans.__('Lines')}
          <select
            className="jp-mod-styled"
            value={tail}
            onChange={event => setTail(Number(event.target.value))}
          >
            {[50, 200, 1000].map(n => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          className="jp-RapidsKF-button"
          onClick={() => void reload()}
          disabled={loading}
        >
          {loading ? trans.__('Loading…') : trans.__('Reload')}
        </button>
      </div>
      {error && (
        <div className="jp-RapidsKF-error" role="alert">
          {error}
        </div>
      )}
      {logs && logs.length === 0 && !error && (
        <p className="jp-RapidsKF-muted">
          {component === 'worker'
            ? trans.__('No workers are running, so there are no worker logs.')
            : trans.__('No log lines yet.')}
        </p>
      )}
      {logs?.map(pod => (
        <section
          key={pod.pod}
          className="jp-RapidsKF-logPod"
          aria-label={pod.pod}
        >
          <h3>{pod.pod}</h3>
          <pre>
            {pod.lines.length ? pod.lines.join('\n') : trans.__('(no lines)')}
          </pre>
        </section>
      ))}
    </div>
  );
}
