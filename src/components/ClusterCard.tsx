/**
 * One cluster: name, phase, workers and GPUs, age, image, why it is not ready, and its
 * actions (scale, dashboard, snippet, logs, delete).
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { caretDownIcon, deleteIcon, listIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IPendingScale } from '../model';
import { ICluster, IClusterActions } from '../tokens';
import { ClusterFacts } from './ClusterFacts';
import { GpuHoursFacts } from './GpuHours';
import { Lifetime } from './Lifetime';
import { StartupTimeline } from './Timeline';
import {
  formatAge,
  formatBytes,
  percent,
  phaseHelp,
  phaseLabel
} from './format';
import { ScaleControl } from './ScaleControl';

export interface IClusterCardProps {
  cluster: ICluster;
  pending: IPendingScale | null;
  maxWorkers: number;
  actions: IClusterActions;
  trans: TranslationBundle;
  /** "now", so that ages tick with the panel's clock. */
  now: number;
}

export function ClusterCard(props: IClusterCardProps): JSX.Element {
  const { cluster, pending, actions, trans } = props;
  const { desired, ready } = cluster.workers;
  const titleId = `jp-RapidsKF-card-title-${cluster.name}`;
  const deleting = cluster.phase === 'Deleting';
  const usable = cluster.scheduler.ready && !deleting;
  const progress = desired > 0 ? Math.min(100, (100 * ready) / desired) : 100;

  return (
    <li
      className="jp-RapidsKF-card"
      data-cluster-name={cluster.name}
      data-phase={cluster.phase}
      aria-labelledby={titleId}
      tabIndex={0}
    >
      <div className="jp-RapidsKF-cardHeader">
        <span
          id={titleId}
          className="jp-RapidsKF-cardName"
          title={cluster.name}
        >
          {cluster.name}
        </span>
        <span
          className={`jp-RapidsKF-phase jp-mod-${cluster.phase.toLowerCase()}`}
          title={phaseHelp(cluster, trans)}
        >
          {phaseLabel(cluster.phase, trans)}
        </span>
        <button
          type="button"
          className="jp-RapidsKF-button jp-RapidsKF-iconButton jp-RapidsKF-delete"
          aria-label={trans.__('Delete %1', cluster.name)}
          title={trans.__('Delete %1', cluster.name)}
          disabled={deleting}
          onClick={() => actions.deleteCluster(cluster.name)}
        >
          <deleteIcon.react tag="span" className="jp-RapidsKF-icon" />
        </button>
      </div>

      <div className="jp-RapidsKF-workers">
        <span className="jp-RapidsKF-workersText">
          {trans.__('%1 of %2 workers ready', ready, desired)}
          {cluster.queue && cluster.queue.queued > 0 && (
            <>
              {' · '}
              <span className="jp-RapidsKF-nowrap jp-RapidsKF-queued">
                {trans.__(
                  '%1 admitted, %2 queued',
                  cluster.queue.admitted,
                  cluster.queue.queued
                )}
              </span>
            </>
          )}
          {cluster.adapt && (
            <>
              {' · '}
              <span className="jp-RapidsKF-nowrap">
                {trans.__(
                  'adaptive %1–%2',
                  cluster.adapt.minimum,
                  cluster.adapt.maximum
                )}
              </span>
            </>
          )}
        </span>
        <div
          className="jp-RapidsKF-progress"
          role="progressbar"
          aria-label={trans.__('Workers ready')}
          aria-valuemin={0}
          aria-valuemax={desired}
          aria-valuenow={ready}
        >
          <div
            className="jp-RapidsKF-progressBar"
            style={{ width: `${progress}%` }}
          />
        </div>
      </div>

      <dl className="jp-RapidsKF-facts">
        <GPUFacts cluster={cluster} trans={trans} />
        <GpuHoursFacts cluster={cluster} trans={trans} now={props.now} />
        <ClusterFacts cluster={cluster} trans={trans} />
        {(cluster.worker_groups ?? []).length > 0 && (
          <>
            <dt>{trans.__('Other groups')}</dt>
            <dd>
              {cluster.worker_groups
                .map(group =>
                  trans.__(
                    '%1: %2 of %3 ready',
                    group.name,
                    group.ready,
                    group.desired
                  )
                )
                .join(' · ')}
            </dd>
          </>
        )}
        <dt>{trans.__('Age')}</dt>
        <dd>{formatAge(cluster.created, trans, props.now)}</dd>
        <Lifetime cluster={cluster} trans={trans} now={props.now} />
        <dt>{trans.__('Image')}</dt>
        <dd title={cluster.image ?? undefined}>
          {cluster.image ?? trans.__('none (local processes)')}
        </dd>
        {!cluster.managed && (
          <>
            <dt>{trans.__('Origin')}</dt>
            <dd>{trans.__('created outside this panel')}</dd>
          </>
        )}
      </dl>

      <StartupTimeline cluster={cluster} actions={actions} trans={trans} />

      {cluster.reasons.length > 0 && (
        <ul
          className="jp-RapidsKF-reasons"
          aria-label={trans.__('Why %1 is not ready', cluster.name)}
        >
          {cluster.reasons.map((reason, index) => (
            <li key={index}>{reason}</li>
          ))}
        </ul>
      )}

      {(cluster.happened ?? []).length > 0 && (
        <ul
          className="jp-RapidsKF-happened"
          aria-label={trans.__('What happened to %1', cluster.name)}
        >
          {cluster.happened!.map((note, index) => (
            <li key={index}>
              {trans.__(
                '%1 ago: %2',
                formatAge(note.at, trans, props.now),
                note.what
              )}
            </li>
          ))}
        </ul>
      )}

      {(cluster.version_skew ?? []).length > 0 && (
        <div className="jp-RapidsKF-skew" role="note">
          {trans.__(
            'Versions differ from this notebook: %1. A Client from here may fail with deserialization errors; create the cluster with this notebook’s image.',
            cluster.version_skew
              .map(skew =>
                trans.__(
                  '%1 %2 (notebook %3)',
                  skew.package,
                  skew.cluster,
                  skew.notebook
                )
              )
              .join(', ')
          )}
        </div>
      )}

      <ScaleControl
        cluster={cluster}
        pending={pending}
        maxWorkers={props.maxWorkers}
        trans={trans}
        onScale={workers => actions.scale(cluster.name, workers)}
        onAdapt={adapt => actions.adapt(cluster.name, adapt)}
      />

      <div className="jp-RapidsKF-actions">
        <SplitButton
          label={trans.__('Dashboard')}
          title={trans.__(
            'Open the Dask dashboard of %1 in a tab',
            cluster.name
          )}
          menuLabel={trans.__('More dashboard plots of %1', cluster.name)}
          disabled={!usable}
          onClick={() => actions.openDashboard(cluster.name)}
          onMenu={anchor => actions.openDashboardMenu(cluster.name, anchor)}
        />
        <SplitButton
          label={trans.__('Snippet')}
          title={trans.__(
            'Insert code that connects to %1 below the active notebook cell',
            cluster.name
          )}
          menuLabel={trans.__('More snippets of %1', cluster.name)}
          disabled={!usable}
          onClick={() => actions.insertSnippet(cluster.name)}
          onMenu={anchor => actions.openSnippetMenu(cluster.name, anchor)}
        />
        <button
          type="button"
          className="jp-RapidsKF-button"
          aria-label={trans.__('Logs of %1', cluster.name)}
          title={trans.__(
            'Show the scheduler and worker logs of %1',
            cluster.name
          )}
          onClick={() => actions.showLogs(cluster.name)}
        >
          <listIcon.react tag="span" className="jp-RapidsKF-icon" />
          <span aria-hidden="true">{trans.__('Logs')}</span>
        </button>
      </div>
    </li>
  );
}

function GPUFacts(props: {
  cluster: ICluster;
  trans: TranslationBundle;
}): JSX.Element {
  const { cluster, trans } = props;
  const gpus = cluster.gpus;
  if (cluster.gpus_per_worker === 0 && gpus.in_use === 0) {
    return (
      <>
        <dt>{trans.__('GPUs')}</dt>
        <dd>{trans.__('none (CPU workers)')}</dd>
      </>
    );
  }
  const parts = [trans.__('%1 in use', gpus.in_use)];
  if (gpus.memory_used !== null && gpus.memory_total !== null) {
    parts.push(
      trans.__(
        'memory %1 of %2',
        formatBytes(gpus.memory_used),
        formatBytes(gpus.memory_total)
      )
    );
  }
  if (gpus.utilization !== null) {
    parts.push(trans.__('%1% busy', Math.round(gpus.utilization)));
  }
  const used = percent(gpus.memory_used, gpus.memory_total);
  return (
    <>
      <dt>{trans.__('GPUs')}</dt>
      <dd>
        {parts.join(' · ')}
        {used !== null && (
          <div
            className="jp-RapidsKF-progress jp-mod-small"
            role="meter"
            aria-label={trans.__('GPU memory used')}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={used}
          >
            <div
              className="jp-RapidsKF-progressBar"
              style={{ width: `${used}%` }}
            />
          </div>
        )}
      </dd>
    </>
  );
}

interface ISplitButtonProps {
  label: string;
  title: string;
  menuLabel: string;
  disabled: boolean;
  onClick: () => void;
  onMenu: (anchor: HTMLElement) => void;
}

/** A button with a caret that opens a menu of related choices. */
function SplitButton(props: ISplitButtonProps): JSX.Element {
  return (
    <span className="jp-RapidsKF-split">
      <button
        type="button"
        className="jp-RapidsKF-button"
        title={props.title}
        disabled={props.disabled}
        onClick={props.onClick}
      >
        {props.label}
      </button>
      <button
        type="button"
        className="jp-RapidsKF-button jp-RapidsKF-caret"
        aria-label={props.menuLabel}
        aria-haspopup="menu"
        title={props.menuLabel}
        disabled={props.disabled}
        onClick={event => props.onMenu(event.currentTarget)}
      >
        <caretDownIcon.react tag="span" className="jp-RapidsKF-icon" />
      </button>
    </span>
  );
}
