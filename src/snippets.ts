/**
 * Putting a snippet where the user wants it: a new code cell below the active cell of the
 * active notebook, or the clipboard.
 */
import { Clipboard } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';

import { ICluster, SnippetKind } from './tokens';

/** The snippets a cluster offers: `kubecluster` only for clusters on Kubernetes. */
export function snippetKinds(cluster: ICluster | undefined): SnippetKind[] {
  return cluster?.backend === 'kubernetes'
    ? ['client', 'kubecluster', 'cudf']
    : ['client', 'cudf'];
}

/** The kind to use: the preferred one when this cluster offers it, else `client`. */
export function chooseKind(
  cluster: ICluster | undefined,
  preferred: SnippetKind
): SnippetKind {
  return snippetKinds(cluster).includes(preferred) ? preferred : 'client';
}

/**
 * Inserts `code` as a new code cell below the active cell of the current notebook and
 * selects it. Returns the notebook's id, or null when no notebook is open.
 */
export function insertBelowActiveCell(
  tracker: INotebookTracker,
  code: string
): string | null {
  const panel = tracker.currentWidget;
  if (!panel || !panel.content.model) {
    return null;
  }
  const notebook = panel.content;
  NotebookActions.insertBelow(notebook);
  if (notebook.activeCell?.model.type !== 'code') {
    NotebookActions.changeCellType(notebook, 'code');
  }
  notebook.activeCell?.model.sharedModel.setSource(code);
  return panel.id;
}

export function copyToClipboard(code: string): void {
  Clipboard.copyToSystem(code);
}
