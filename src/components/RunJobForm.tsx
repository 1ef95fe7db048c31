/**
 * The form of "Run as GPU job" / "Export as pipeline": the cluster's size (defaults and
 * limits from the environment, as in the New cluster form) and the notebook's parameters.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IJobRequest } from '../jobTokens';
import { IEnvironment } from '../tokens';

export interface IRunJobValues {
  workers: string;
  gpus: string;
  profile: string;
  parameters: string;
}

export function initialValues(env: IEnvironment | null): IRunJobValues {
  return {
    workers: String(env?.defaults.workers ?? 2),
    gpus: String(env?.defaults.gpus_per_worker ?? 1),
    profile: '',
    parameters: '{}'
  };
}

/** The request, or the message of what is wrong with the values. */
export function toRequest(
  path: string,
  values: IRunJobValues,
  trans: TranslationBundle
): IJobRequest | string {
  let parameters: unknown;
  try {
    parameters = JSON.parse(values.parameters || '{}');
  } catch {
    return trans.__('Parameters must be a JSON object, such as {"rows": 1000}');
  }
  if (
    typeof parameters !== 'object' ||
    parameters === null ||
    Array.isArray(parameters)
  ) {
    return trans.__('Parameters must be a JSON object, such as {"rows": 1000}');
  }
  const request: IJobRequest = {
    path,
    parameters: parameters as Record<string, unknown>,
    cluster: {}
  };
  if (values.profile) {
    request.cluster!.profile = values.profile;
  } else {
    const workers = Number(values.workers);
    const gpus = Number(values.gpus);
    if (!Number.isInteger(workers) || workers < 0) {
      return trans.__('Workers must be a whole number');
    }
    if (!Number.isInteger(gpus) || gpus < 0) {
      return trans.__('GPUs per worker must be a whole number');
    }
    request.cluster = { workers, gpus_per_worker: gpus };
  }
  return request;
}

export interface IRunJobFormProps {
  path: string;
  environment: IEnvironment | null;
  trans: TranslationBundle;
  values: IRunJobValues;
  onChange: (values: IRunJobValues) => void;
}

export function RunJobForm(props: IRunJobFormProps): JSX.Element {
  const { trans, values, onChange, environment } = props;
  const set =
    (key: keyof IRunJobValues) =>
    (
      event: React.ChangeEvent<
        HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement
      >
    ) =>
      onChange({ ...values, [key]: event.target.value });
  const profiles = environment?.profiles ?? [];
  return (
    <form className="jp-RapidsKF-runJob" onSubmit={e => e.preventDefault()}>
      <p className="jp-RapidsKF-muted">{props.path}</p>
      {profiles.length > 0 && (
        <label>
          {trans.__('Profile')}
          <select
            className="jp-mod-styled"
            value={values.profile}
            onChange={set('profile')}
          >
            <option value="">{trans.__('(size below)')}</option>
            {profiles.map(p => (
              <option key={p.name} value={p.name}>
                {p.title}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        {trans.__('Workers')}
        <input
          className="jp-mod-styled"
          name="workers"
          type="number"
          min={0}
          max={environment?.limits.max_workers}
          value={values.workers}
          disabled={!!values.profile}
          onChange={set('workers')}
        />
      </label>
      {environment?.backend !== 'local' && (
        <label>
          {trans.__('GPUs per worker')}
          <input
            className="jp-mod-styled"
            name="gpus"
            type="number"
            min={0}
            max={environment?.limits.max_gpus_per_worker}
            value={values.gpus}
            disabled={!!values.profile}
            onChange={set('gpus')}
          />
        </label>
      )}
      <label>
        {trans.__('Parameters (JSON, set after the cell tagged "parameters")')}
        <textarea
          className="jp-mod-styled"
          name="parameters"
          value={values.parameters}
          onChange={set('parameters')}
        />
      </label>
    </form>
  );
}
