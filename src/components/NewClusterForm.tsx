/**
 * The New GPU cluster form: the server's defaults, admin profiles, an Advanced part, and
 * errors next to their fields. Controlled: the dialog owns the values and errors.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IEnvironment, IImageNodes, workerLimit } from '../tokens';
import {
  firstError,
  FormErrors,
  FormField,
  IFormValues,
  imageAllowed,
  protocolChoices
} from './clusterForm';
import { ImagePresence } from './ImagePresence';

export interface INewClusterFormProps {
  environment: IEnvironment;
  values: IFormValues;
  errors: FormErrors;
  busy: boolean;
  /** Changes when a submit was refused: focus goes to the first field with an error. */
  focusRequest?: number;
  trans: TranslationBundle;
  onChange: (field: FormField, value: string) => void;
  /** On which GPU nodes an image already is (Kubernetes); absent: not shown. */
  findImage?: (image: string) => Promise<IImageNodes>;
}

export function NewClusterForm(props: INewClusterFormProps): JSX.Element {
  const { environment, values, errors, busy, trans } = props;
  const { limits } = environment;
  const form = React.useRef<HTMLFormElement>(null);
  React.useEffect(() => {
    const field = firstError(errors);
    if (props.focusRequest && field) {
      form.current
        ?.querySelector<HTMLElement>(`#jp-RapidsKF-form-${field}`)
        ?.focus();
    }
  }, [props.focusRequest]);
  const maxWorkers = workerLimit(limits, Number(values.gpus_per_worker) || 0);
  const noGPUs = limits.max_gpus_per_worker === 0;
  const advancedOpen = [
    'cpu',
    'memory',
    'worker_command',
    'idle_timeout',
    'lifetime',
    'env'
  ].some(field => errors[field as FormField]);

  const field = (
    name: FormField,
    label: string,
    input: Omit<
      React.InputHTMLAttributes<HTMLInputElement>,
      'onChange' | 'value'
    > = {},
    help?: string
  ) => {
    const id = `jp-RapidsKF-form-${name}`;
    const error = errors[name];
    const describedBy = [error ? `${id}-error` : '', help ? `${id}-help` : '']
      .filter(Boolean)
      .join(' ');
    return (
      <div className="jp-RapidsKF-field">
        <label htmlFor={id}>{label}</label>
        <input
          id={id}
          name={name}
          className={`jp-mod-styled${error ? ' jp-RapidsKF-invalid' : ''}`}
          value={values[name]}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy || undefined}
          disabled={busy}
          onChange={event => props.onChange(name, event.target.value)}
          {...input}
        />
        {help && (
          <div id={`${id}-help`} className="jp-RapidsKF-help">
            {help}
          </div>
        )}
        {error && (
          <div
            id={`${id}-error`}
            className="jp-RapidsKF-fieldError"
            role="alert"
          >
            {error}
          </div>
        )}
      </div>
    );
  };

  return (
    <form
      ref={form}
      className="jp-RapidsKF-form"
      aria-label={trans.__('New GPU cluster')}
      onSubmit={event => event.preventDefault()}
    >
      {errors.form && (
        <div className="jp-RapidsKF-error" role="alert">
          {errors.form}
        </div>
      )}
      {errors.fix && (
        <div className="jp-RapidsKF-fix">
          {trans.__('Fix:')} <code>{errors.fix}</code>
        </div>
      )}
      {field('name', trans.__('Name'), {
        autoComplete: 'off',
        spellCheck: false
      })}
      {environment.profiles.length > 0 && (
        <div className="jp-RapidsKF-field">
          <label htmlFor="jp-RapidsKF-form-profile">
            {trans.__('Profile')}
          </label>
          <select
            id="jp-RapidsKF-form-profile"
            className="jp-mod-styled"
            value={values.profile}
            disabled={busy}
            onChange={event => props.onChange('profile', event.target.value)}
          >
            <option value="">{trans.__('Custom (server defaults)')}</option>
            {environment.profiles.map(profile => (
              <option key={profile.name} value={profile.name}>
                {profile.title}
              </option>
            ))}
          </select>
          {errors.profile && (
            <div className="jp-RapidsKF-fieldError" role="alert">
              {errors.profile}
            </div>
          )}
        </div>
      )}
      <div className="jp-RapidsKF-fieldRow">
        {/* No min/max attributes: the browser's :invalid would disable Create silently;
            the limits are stated here and checked as typed. */}
        {field(
          'workers',
          trans.__('Workers'),
          { type: 'number' },
          trans.__('0 to %1', maxWorkers)
        )}
        {field(
          'gpus_per_worker',
          trans.__('GPUs per worker'),
          { type: 'number', disabled: busy || noGPUs },
          noGPUs
            ? trans.__('No GPUs here: workers use the CPU.')
            : trans.__('0 to %1', limits.max_gpus_per_worker)
        )}
      </div>
      {Number(values.gpus_per_worker) > 0 && (
        <div className="jp-RapidsKF-field">
          <label htmlFor="jp-RapidsKF-form-protocol">
            {trans.__('Between workers')}
          </label>
          <select
            id="jp-RapidsKF-form-protocol"
            className="jp-mod-styled"
            value={values.protocol}
            disabled={busy}
            aria-describedby="jp-RapidsKF-form-protocol-help"
            onChange={event => props.onChange('protocol', event.target.value)}
          >
            <option value="tcp">{trans.__('TCP')}</option>
            {protocolChoices(values, environment).includes('ucx') && (
              <option value="ucx">
                {trans.__('UCX (NVLink where the GPUs have it)')}
              </option>
            )}
          </select>
          <div id="jp-RapidsKF-form-protocol-help" className="jp-RapidsKF-help">
            {protocolChoices(values, environment).includes('ucx')
              ? trans.__(
                  'UCX moves shuffles and joins between GPUs without going through host memory; this notebook still reaches the scheduler over TCP.'
                )
              : trans.__(
                  "UCX is not installed here (the environment's ucx check says how to add it)."
                )}
          </div>
          {errors.protocol && (
            <div className="jp-RapidsKF-fieldError" role="alert">
              {errors.protocol}
            </div>
          )}
        </div>
      )}
      {imageAllowed(environment) &&
        field('image', trans.__('Image'), { spellCheck: false })}
      {imageAllowed(environment) && props.findImage && (
        <ImagePresence image={values.image} find={props.findImage} />
      )}
      {!imageAllowed(environment) && errors.image && (
        <div className="jp-RapidsKF-fieldError" role="alert">
          {errors.image}
        </div>
      )}
      {!imageAllowed(environment) && (
        <div className="jp-RapidsKF-help">
          {trans.__(
            "Local clusters run in this server's Python environment; there is no image to choose."
          )}
        </div>
      )}
      {environment.queue && (
        <div className="jp-RapidsKF-help jp-RapidsKF-queue">
          {trans.__(
            'Waits for quota in Kueue queue %1: if the GPUs are taken, the cluster starts when its turn comes.',
            environment.queue
          )}
        </div>
      )}
      {environment.ends_with && (
        <div className="jp-RapidsKF-field jp-RapidsKF-checkField">
          <input
            id="jp-RapidsKF-form-tie_to_notebook"
            type="checkbox"
            checked={values.tie_to_notebook === 'yes'}
            disabled={busy}
            aria-describedby="jp-RapidsKF-form-tie_to_notebook-help"
            onChange={event =>
              props.onChange(
                'tie_to_notebook',
                event.target.checked ? 'yes' : 'no'
              )
            }
          />
          <label htmlFor="jp-RapidsKF-form-tie_to_notebook">
            {environment.ends_with.kind === 'Notebook'
              ? trans.__('End with notebook %1', environment.ends_with.name)
              : trans.__(
                  'End with %1 %2',
                  environment.ends_with.kind,
                  environment.ends_with.name
                )}
          </label>
          <div
            id="jp-RapidsKF-form-tie_to_notebook-help"
            className="jp-RapidsKF-help"
          >
            {trans.__(
              'Deleting the notebook deletes this cluster, even while this server is down.'
            )}
          </div>
          {errors.tie_to_notebook && (
            <div className="jp-RapidsKF-fieldError" role="alert">
              {errors.tie_to_notebook}
            </div>
          )}
        </div>
      )}
      <details
        className="jp-RapidsKF-advanced"
        open={advancedOpen || undefined}
      >
        <summary>{trans.__('Advanced')}</summary>
        <div className="jp-RapidsKF-fieldRow">
          {field('cpu', trans.__('CPU per worker'), { spellCheck: false })}
          {field('memory', trans.__('Memory per worker'), {
            spellCheck: false
          })}
        </div>
        {field('worker_command', trans.__('Worker command'), {
          spellCheck: false
        })}
        {field(
          'idle_timeout',
          trans.__('Idle timeout (seconds)'),
          { type: 'number' },
          trans.__(
            'A cluster without work for this long is deleted; 0 keeps it.'
          )
        )}
        {environment.backend === 'kubernetes' &&
          field(
            'lifetime',
            trans.__('Lifetime (seconds)'),
            { type: 'number' },
            trans.__(
              'Kubernetes deletes the cluster this long after it starts, busy or not; 0: no limit.'
            )
          )}
        <div className="jp-RapidsKF-field">
          <label htmlFor="jp-RapidsKF-form-env">
            {trans.__('Environment variables')}
          </label>
          <textarea
            id="jp-RapidsKF-form-env"
            className={`jp-mod-styled${errors.env ? ' jp-RapidsKF-invalid' : ''}`}
            rows={3}
            placeholder="NAME=value"
            value={values.env}
            disabled={busy}
            aria-invalid={errors.env ? true : undefined}
            onChange={event => props.onChange('env', event.target.value)}
          />
          {errors.env && (
            <div className="jp-RapidsKF-fieldError" role="alert">
              {errors.env}
            </div>
          )}
        </div>
      </details>
    </form>
  );
}
