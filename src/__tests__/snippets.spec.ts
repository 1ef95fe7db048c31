import { NotebookModel } from '@jupyterlab/notebook';
import { NBTestUtils } from '@jupyterlab/notebook/lib/testutils';

import { insertBelowActiveCell } from '../snippets';

/** A notebook with a markdown, a code and a markdown cell, the first one active. */
function notebookTracker() {
  const notebook = NBTestUtils.createNotebook();
  const model = new NotebookModel();
  model.sharedModel.insertCells(0, [
    { cell_type: 'markdown', source: '# Title' },
    { cell_type: 'code', source: 'x = 1' },
    { cell_type: 'markdown', source: 'the end' }
  ]);
  notebook.model = model;
  notebook.activeCellIndex = 0;
  return {
    tracker: { currentWidget: { id: 'nb-1', content: notebook } } as any,
    notebook
  };
}

describe('insertBelowActiveCell', () => {
  it('adds a code cell with the snippet right below the active cell and selects it', () => {
    const { tracker, notebook } = notebookTracker();
    expect(
      insertBelowActiveCell(tracker, 'client = Client("tcp://x:8786")')
    ).toBe('nb-1');
    const cells = notebook.model!.sharedModel.cells.map(cell => [
      cell.cell_type,
      cell.source
    ]);
    expect(cells).toEqual([
      ['markdown', '# Title'],
      ['code', 'client = Client("tcp://x:8786")'],
      ['code', 'x = 1'],
      ['markdown', 'the end']
    ]);
    expect(notebook.activeCellIndex).toBe(1);
    notebook.dispose();
  });

  it('says when no notebook is open', () => {
    expect(
      insertBelowActiveCell({ currentWidget: null } as any, 'code')
    ).toBeNull();
  });
});
