/**
 * The content of the "GPU clusters" sidebar: where clusters run, what is wrong with the
 * setup, the New GPU cluster button, the connection state and a card per cluster.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { ClusterListModel } from '../model';
import {
  ICheck,
  ICluster,
  IClusterActions,
  IEnvironment,
  workerLimit
} from '../tokens';
import { ClusterCard } from './ClusterCard';
import { NamespaceGpuHours } from './GpuHours';

export interface IClusterPanelProps {
  model: ClusterListModel;
  actions: IClusterActions;
  trans: TranslationBundle;
  /** How often ages are refreshed, ms. */
  tick?: number;
}

/** Re-renders when the model changes. */
function useModel(model: ClusterListModel): void {
  const [, setVersion] = React.useState(0);
  React.useEffect(() => {
    const update = () => setVersion(v => v + 1);
    model.changed.connect(update);
    return () => {
      model.changed.disconnect(update);
    };
  }, [model]);
}

function useNow(tick: number): number {
  const [now, setNow] = React.useState(Date.now());
  React.useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), tick);
    return () => clearInterval(timer);
  }, [tick]);
  return now;
}

export function ClusterPanel(props: IClusterPanelProps): JSX.Element {
  const { model, actions, trans } = props;
  useModel(model);
  const now = useNow(props.tick ?? 15000);
  const environment = model.environment;
  const clusters = model.clusters;
  // GPU clusters may be bounded by the hardware too (one worker per GPU locally).
  const maxWorkers = (cluster: ICluster) =>
    environment ? workerLimit(environment.limits, cluster.gpus_per_worker) : 16;

  return (
    <div className="jp-RapidsKF-panelBody">
      <EnvironmentHeader
        environment={environment}
        error={model.environmentError}
        trans={trans}
      />
      <div className="jp-RapidsKF-newRow">
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-accept jp-RapidsKF-new"
          onClick={() => actions.newCluster()}
          disabled={!environment}
        >
          {trans.__('New GPU cluster')}
        </button>
      </div>
      <ConnectionState model={model} trans={trans} />
      {model.loaded && clusters.length === 0 && (
        <p className="jp-RapidsKF-empty">
          {trans.__(
            'No clusters yet. New GPU cluster starts one with the defaults of this server.'
          )}
        </p>
      )}
      {clusters.length > 0 && (
        <NamespaceGpuHours clusters={clusters} trans={trans} now={now} />
      )}
      <ul className="jp-RapidsKF-cards" aria-label={trans.__('GPU clusters')}>
        {clusters.map(cluster => (
          <ClusterCard
            key={cluster.name}
            cluster={cluster}
            pending={model.pending(cluster.name)}
            maxWorkers={maxWorkers(cluster)}
            actions={actions}
            trans={trans}
            now={now}
          />
        ))}
      </ul>
    </div>
  );
}

function EnvironmentHeader(props: {
  environment: IEnvironment | null;
  error: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { environment, error, trans } = props;
  if (!environment) {
    return (
      <div className="jp-RapidsKF-header">
        {error ? (
          <div className="jp-RapidsKF-error" role="alert">
            {trans.__('The GPU cluster service does not answer: %1', error)}
          </div>
        ) : (
          <div className="jp-RapidsKF-muted">{trans.__('Loading…')}</div>
        )}
      </div>
    );
  }
  const failed = environment.checks.filter(check => check.status === 'failed');
  const unknown = environment.checks.filter(
    check => check.status === 'unknown'
  );
  return (
    <div className="jp-RapidsKF-header">
      <dl className="jp-RapidsKF-facts">
        <dt>{trans.__('Namespace')}</dt>
        <dd className="jp-RapidsKF-namespace">{environment.namespace}</dd>
        <dt>{trans.__('Backend')}</dt>
        <dd className="jp-RapidsKF-backend" title={environment.backend_reason}>
          {environment.backend === 'kubernetes'
            ? trans.__('Kubernetes')
            : trans.__('this machine (local)')}
        </dd>
        {environment.gpus_available !== null && (
          <>
            <dt>{trans.__('Free GPUs')}</dt>
            <dd>{environment.gpus_available}</dd>
          </>
        )}
      </dl>
      <div className="jp-RapidsKF-muted jp-RapidsKF-reason">
        {environment.backend_reason}
      </div>
      {environment.notes.map((note, index) => (
        <div key={index} className="jp-RapidsKF-muted">
          {note}
        </div>
      ))}
      {failed.length > 0 && (
        <ul
          className="jp-RapidsKF-checks"
          aria-label={trans.__('Setup problems')}
        >
          {failed.map(check => (
            <FailedCheck key={check.name} check={check} trans={trans} />
          ))}
        </ul>
      )}
      {unknown.length > 0 && (
        <ul
          className="jp-RapidsKF-checks jp-RapidsKF-muted"
          aria-label={trans.__('Could not check')}
        >
          {unknown.map(check => (
            <FailedCheck key={check.name} check={check} trans={trans} />
          ))}
        </ul>
      )}
    </div>
  );
}

function FailedCheck(props: {
  check: ICheck;
  trans: TranslationBundle;
}): JSX.Element {
  const { check, trans } = props;
  return (
    <li className="jp-RapidsKF-check">
      <div>
        <strong>{check.name}</strong>: {check.message}
      </div>
      {check.fix && (
        <div className="jp-RapidsKF-fix">
          {trans.__('Fix:')} <code>{check.fix}</code>
        </div>
      )}
    </li>
  );
}

function ConnectionState(props: {
  model: ClusterListModel;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { model, trans } = props;
  let text: string;
  switch (model.status) {
    case 'live':
      return null; // the normal case needs no words
    case 'connecting':
      text = trans.__('Connecting…');
      break;
    case 'reconnecting':
      text = trans.__(
        'Live updates interrupted (%1); reconnecting…',
        model.statusDetail
      );
      break;
    case 'polling':
      text = trans.__(
        'Live updates unavailable (%1); refreshing every few seconds.',
        model.statusDetail
      );
      break;
    default:
      text = trans.__('Updates paused while the panel is hidden.');
  }
  return (
    <div
      className="jp-RapidsKF-connection"
      data-status={model.status}
      role="status"
    >
      {text}
    </div>
  );
}
