/**
 * The scale slider and the adaptive switch of one cluster.
 *
 * The slider sends one request when it is released (pointer up, or a pause after arrow
 * keys), never on every step. The value asked for shows as pending until the workers are
 * ready; when the server refuses it, the slider goes back and the reason is shown.
 */
import { Slider } from '@jupyter/react-components';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IPendingScale } from '../model';
import { IAdapt, ICluster } from '../tokens';

export interface IScaleControlProps {
  cluster: ICluster;
  pending: IPendingScale | null;
  maxWorkers: number;
  trans: TranslationBundle;
  onScale: (workers: number) => Promise<string>;
  onAdapt: (adapt: IAdapt | null) => Promise<string>;
  /** ms to wait after the last arrow key before sending. */
  keyboardDelay?: number;
}

export function ScaleControl(props: IScaleControlProps): JSX.Element {
  const { cluster, pending, maxWorkers, trans } = props;
  const slider = React.useRef<HTMLElement & { value: string }>(null);
  const interacting = React.useRef<'pointer' | 'keys' | null>(null);
  const keyTimer = React.useRef<ReturnType<typeof setTimeout> | null>(null);
  const [draft, setDraft] = React.useState<number | null>(null);
  const [error, setError] = React.useState('');
  const id = `jp-RapidsKF-scale-${cluster.name}`;

  const busy = cluster.phase === 'Deleting' || cluster.phase === 'Failed';
  const adaptive = cluster.adapt !== null;
  const shown = draft ?? pending?.workers ?? cluster.workers.desired;
  const max = Math.max(maxWorkers, shown);

  // Keep the element in step with what should show, but never under the user's hand.
  React.useEffect(() => {
    const node = slider.current;
    if (node && interacting.current === null && node.value !== String(shown)) {
      node.value = String(shown);
    }
  }, [shown, max]);

  React.useEffect(
    () => () => {
      if (keyTimer.current) {
        clearTimeout(keyTimer.current);
      }
    },
    []
  );

  const commit = React.useCallback(
    async (value: number) => {
      interacting.current = null;
      const current = pending?.workers ?? cluster.workers.desired;
      if (value === current) {
        setDraft(null);
        return;
      }
      setError('');
      const answer = props.onScale(value); // the model shows it as pending from now on
      setDraft(null);
      const refusal = await answer;
      if (refusal) {
        setError(refusal);
        const node = slider.current;
        if (node) {
          node.value = String(cluster.workers.desired);
        }
      }
    },
    [cluster, pending, props.onScale]
  );

  const read = (): number | null => {
    const value = Number(slider.current?.value);
    return Number.isFinite(value) ? value : null;
  };

  const onChange = () => {
    if (interacting.current !== null) {
      setDraft(read());
    }
  };

  const onPointerDown = () => {
    interacting.current = 'pointer';
    const release = () => {
      window.removeEventListener('pointerup', release);
      window.removeEventListener('pointercancel', release);
      const value = read();
      if (value !== null) {
        void commit(value);
      }
    };
    window.addEventListener('pointerup', release);
    window.addEventListener('pointercancel', release);
  };

  const onKeyDown = (event: React.KeyboardEvent) => {
    if (
      [
        'ArrowLeft',
        'ArrowRight',
        'ArrowUp',
        'ArrowDown',
        'Home',
        'End',
        'PageUp',
        'PageDown'
      ].includes(event.key)
    ) {
      interacting.current = 'keys';
      if (keyTimer.current) {
        clearTimeout(keyTimer.current);
      }
    }
  };

  const onKeyUp = () => {
    if (interacting.current !== 'keys') {
      return;
    }
    if (keyTimer.current) {
      clearTimeout(keyTimer.current);
    }
    keyTimer.current = setTimeout(() => {
      keyTimer.current = null;
      const value = read();
      if (value !== null) {
        void commit(value);
      }
    }, props.keyboardDelay ?? 600);
  };

  let status = '';
  if (draft !== null) {
    status = trans.__('Release to scale to %1', draft);
  } else if (pending) {
    status = pending.sending
      ? trans.__('Asking for %1 workers…', pending.workers)
      : trans.__(
          'Scaling to %1 workers: %2 ready',
          pending.workers,
          cluster.workers.ready
        );
  }

  return (
    <div className="jp-RapidsKF-scale">
      <div className="jp-RapidsKF-scaleRow">
        <label htmlFor={id} className="jp-RapidsKF-scaleLabel">
          {trans.__('Workers')}
        </label>
        <Slider
          ref={slider as any}
          id={id}
          className="jp-RapidsKF-slider"
          min={0}
          max={max}
          step={1}
          value={String(shown)}
          disabled={busy || adaptive}
          aria-label={trans.__('Number of workers of %1', cluster.name)}
          valueTextFormatter={(value: string) =>
            trans._n('%1 worker', '%1 workers', Number(value))
          }
          onChange={onChange}
          onPointerDown={onPointerDown}
          onKeyDown={onKeyDown}
          onKeyUp={onKeyUp}
        />
        <output
          htmlFor={id}
          aria-hidden="true" /* the slider itself announces its value */
          className="jp-RapidsKF-scaleValue"
          data-pending={pending || draft !== null ? 'true' : undefined}
        >
          {shown}
        </output>
      </div>
      <div className="jp-RapidsKF-scaleStatus" role="status" aria-live="polite">
        {status}
      </div>
      {error && (
        <div className="jp-RapidsKF-error" role="alert">
          {error}
        </div>
      )}
      <AdaptControl
        cluster={cluster}
        maxWorkers={maxWorkers}
        disabled={busy}
        trans={trans}
        onAdapt={props.onAdapt}
      />
    </div>
  );
}

interface IAdaptControlProps {
  cluster: ICluster;
  maxWorkers: number;
  disabled: boolean;
  trans: TranslationBundle;
  onAdapt: (adapt: IAdapt | null) => Promise<string>;
}

/** A switch for adaptive scaling; when on, minimum and maximum with an Apply button. */
export function AdaptControl(props: IAdaptControlProps): JSX.Element {
  const { cluster, maxWorkers, trans } = props;
  const adapt = cluster.adapt;
  // While adaptive is off, the range it would start with follows the cluster's size now
  // (never below it, never above the server's limit), not the size at first render.
  const desired = cluster.workers.desired;
  const start = {
    minimum: Math.min(1, desired, maxWorkers),
    maximum: Math.min(maxWorkers, Math.max(desired, 1))
  };
  const [minimum, setMinimum] = React.useState(
    String(adapt?.minimum ?? start.minimum)
  );
  const [maximum, setMaximum] = React.useState(
    String(adapt?.maximum ?? start.maximum)
  );
  const [error, setError] = React.useState('');
  const [busy, setBusy] = React.useState(false);

  React.useEffect(() => {
    if (adapt) {
      setMinimum(String(adapt.minimum));
      setMaximum(String(adapt.maximum));
    }
  }, [adapt?.minimum, adapt?.maximum]);

  const send = async (value: IAdapt | null) => {
    setBusy(true);
    setError(await props.onAdapt(value));
    setBusy(false);
  };

  const lo = Number(minimum);
  const hi = Number(maximum);
  const invalid =
    !Number.isInteger(lo) ||
    !Number.isInteger(hi) ||
    lo < 0 ||
    hi > maxWorkers ||
    lo > hi;
  const switchId = `jp-RapidsKF-adapt-${cluster.name}`;

  return (
    <div className="jp-RapidsKF-adapt">
      <label htmlFor={switchId} className="jp-RapidsKF-switch">
        <input
          id={switchId}
          type="checkbox"
          role="switch"
          checked={adapt !== null}
          disabled={props.disabled || busy}
          onChange={event => void send(event.target.checked ? start : null)}
        />
        {trans.__('Adaptive')}
      </label>
      {adapt !== null && (
        <form
          className="jp-RapidsKF-adaptRange"
          onSubmit={event => {
            event.preventDefault();
            if (!invalid) {
              void send({ minimum: lo, maximum: hi });
            }
          }}
        >
          <label>
            {trans.__('Min')}
            <input
              className="jp-mod-styled"
              type="number"
              min={0}
              max={maxWorkers}
              value={minimum}
              onChange={event => setMinimum(event.target.value)}
            />
          </label>
          <label>
            {trans.__('Max')}
            <input
              className="jp-mod-styled"
              type="number"
              min={0}
              max={maxWorkers}
              value={maximum}
              onChange={event => setMaximum(event.target.value)}
            />
          </label>
          <button
            type="submit"
            className="jp-RapidsKF-button"
            disabled={
              invalid || busy || (lo === adapt.minimum && hi === adapt.maximum)
            }
          >
            {trans.__('Apply')}
          </button>
        </form>
      )}
      {invalid && adapt !== null && (
        <div className="jp-RapidsKF-error" role="alert">
          {trans.__(
            'Minimum and maximum must be whole numbers with 0 ≤ min ≤ max ≤ %1.',
            maxWorkers
          )}
        </div>
      )}
      {error && (
        <div className="jp-RapidsKF-error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}
