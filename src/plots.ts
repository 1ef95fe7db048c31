/**
 * The individual plots a cluster's scheduler serves (its `individual-plots.json`, read
 * through our dashboard proxy), in the order a GPU user wants them, and the check of a
 * dashboard URL a user pastes: only our own proxy's routes open, so the browser never
 * becomes a way to reach arbitrary addresses.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { API_ROOT } from './api';

export interface IPlot {
  /** The scheduler's name for it, e.g. "Individual Gpu Memory". */
  title: string;
  /** The page under the dashboard root, e.g. "individual-gpu-memory". */
  page: string;
}

/** GPU plots a GPU user looks at first, in this order. */
const GPU_FIRST = ['individual-gpu-memory', 'individual-gpu-utilization'];

/** The plots of an `individual-plots.json` answer ({title: "/path"}), GPU ones first when wanted. */
export function orderPlots(answer: unknown, gpus: boolean): IPlot[] {
  if (!answer || typeof answer !== 'object' || Array.isArray(answer)) {
    return [];
  }
  const plots: IPlot[] = [];
  for (const [title, uri] of Object.entries(
    answer as Record<string, unknown>
  )) {
    if (typeof uri !== 'string') {
      continue;
    }
    // The scheduler answers absolute paths of its own server; keep the part under the
    // dashboard root, refusing anything that would climb out of it.
    const page = uri.replace(/^\/+/, '');
    if (!page || page.split('/').some(part => part === '..' || part === '')) {
      continue;
    }
    plots.push({ title: title.replace(/^Individual /, ''), page });
  }
  const rank = (plot: IPlot) => {
    const index = gpus ? GPU_FIRST.indexOf(plot.page) : -1;
    return index < 0 ? GPU_FIRST.length : index;
  };
  return plots.sort(
    (a, b) => rank(a) - rank(b) || a.title.localeCompare(b.title)
  );
}

/** Reads the plots of the dashboard at `root` (a URL ending in ".../dashboard"). */
export async function loadPlots(
  root: string,
  gpus: boolean,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<IPlot[]> {
  const response = await ServerConnection.makeRequest(
    URLExt.join(root, 'individual-plots.json'),
    {},
    settings
  );
  if (!response.ok) {
    throw new Error(
      `the scheduler's list of plots did not load (${response.status})`
    );
  }
  return orderPlots(await response.json(), gpus);
}

/** A pasted dashboard URL, understood: a cluster's page, or a Client's dashboard link. */
export type PastedDashboard =
  | { cluster: string; page: string }
  | { link: string; page: string }
  | { error: string };

/**
 * Which dashboard a pasted URL means. Accepted: URLs of this page's origin under the
 * server's base URL, on the routes of our proxy (`rapids-kf/clusters/NAME/dashboard/PAGE`,
 * or the Client link `rapids-kf/dashboards/HOST:PORT/PAGE` that redirects to one). The
 * page defaults to "status".
 */
export function readPastedDashboard(
  text: string,
  baseUrl: string,
  here: string = window.location.href
): PastedDashboard {
  let url: URL;
  let base: URL;
  try {
    base = new URL(baseUrl, here);
    url = new URL(text.trim(), base);
  } catch {
    return { error: 'this is not a URL' };
  }
  const root = base.pathname.replace(/\/?$/, '/') + API_ROOT + '/';
  if (url.origin !== base.origin || !url.pathname.startsWith(root)) {
    return {
      error: `only dashboards of this Jupyter server open here (URLs starting with ${base.origin}${root})`
    };
  }
  const parts = url.pathname.slice(root.length).split('/').map(decode);
  if (parts.some(part => part === null || part === '..' || part === '.')) {
    return { error: 'the URL has a path that climbs out of the dashboard' };
  }
  const rest = parts as string[];
  const page = (kind: number) => rest.slice(kind).filter(Boolean).join('/');
  if (rest[0] === 'clusters' && rest[1] && rest[2] === 'dashboard') {
    return { cluster: rest[1], page: page(3) || 'status' };
  }
  if (rest[0] === 'dashboards' && /^[^:/]+:\d+$/.test(rest[1] ?? '')) {
    return {
      link: url.origin + root + `dashboards/${rest[1]}`,
      page: page(2) || 'status'
    };
  }
  return {
    error:
      'this is not a cluster dashboard: paste a dashboard link of a cluster in the GPU clusters panel'
  };
}

function decode(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}
