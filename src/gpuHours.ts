/**
 * GPU-hours as of now, from the server's count as of its last change (clusters/gpu_hours.py):
 * since `as_of` the cluster has held `gpus_held` GPUs, busy at `utilization` percent (null:
 * not read), so the card's numbers grow with the panel's clock between server events.
 */
import { ICluster, IGpuHours } from './tokens';

export interface IGpuHoursNow {
  held: number;
  read: number;
  /** null: nothing was read, so how busy the GPUs were is not known. */
  busy: number | null;
  /** busy / read, 0 to 1; null: unknown (never shown as 0 %). */
  share: number | null;
  /** held x the admin's price; null: no price set. */
  cost: number | null;
  currency: string | null;
}

export function gpuHoursNow(hours: IGpuHours, now: number): IGpuHoursNow {
  const asOf = Date.parse(hours.as_of);
  const elapsed = isNaN(asOf) ? 0 : Math.max(0, now - asOf) / 3600000;
  const added = hours.gpus_held * elapsed;
  const held = hours.held + added;
  const reading = hours.utilization;
  const read = hours.read + (reading === null ? 0 : added);
  let busy = hours.busy;
  if (reading !== null) {
    busy = (busy ?? 0) + (added * reading) / 100;
  }
  const price = hours.price_per_gpu_hour;
  return {
    held,
    read,
    busy: read > 0 ? busy : null,
    share: read > 0 && busy !== null ? busy / read : null,
    cost: price === null ? null : held * price,
    currency: hours.currency
  };
}

/** The namespace total of the clusters listed; null when no cluster reports GPU-hours. */
export function totalGpuHours(
  clusters: ReadonlyArray<ICluster>,
  now: number
): IGpuHoursNow | null {
  const counted = clusters
    .map(cluster => cluster.gpu_hours)
    .filter((hours): hours is IGpuHours => !!hours)
    .map(hours => gpuHoursNow(hours, now));
  if (counted.length === 0) {
    return null;
  }
  const held = sum(counted.map(c => c.held));
  const read = sum(counted.map(c => c.read));
  const busy = sum(counted.map(c => c.busy ?? 0));
  const priced = counted.filter(c => c.cost !== null);
  return {
    held,
    read,
    busy: read > 0 ? busy : null,
    share: read > 0 ? busy / read : null,
    cost: priced.length ? sum(priced.map(c => c.cost as number)) : null,
    currency: priced.length ? priced[0].currency : null
  };
}

/** Seconds the cluster's GPUs have been idle by `now`; null when they are not idle. */
export function idleSeconds(hours: IGpuHours, now: number): number | null {
  if (!hours.idle_since || hours.gpus_held === 0) {
    return null;
  }
  const since = Date.parse(hours.idle_since);
  return isNaN(since) ? null : Math.max(0, now - since) / 1000;
}

/** "0.25", "3.4", "120": two digits that matter, never "0" for a few minutes held. */
export function formatHours(hours: number): string {
  if (hours === 0) {
    return '0';
  }
  if (hours < 10) {
    return hours.toFixed(2);
  }
  return hours < 100 ? hours.toFixed(1) : Math.round(hours).toString();
}

/** Money in the admin's currency, as the browser writes it ("€3.44"). */
export function formatMoney(amount: number, currency: string | null): string {
  try {
    return new Intl.NumberFormat(undefined, {
      style: 'currency',
      currency: currency ?? 'USD'
    }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${currency ?? ''}`.trim();
  }
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
