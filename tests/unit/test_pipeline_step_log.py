"""The pipeline step's log (what a KFP run's Logs tab shows) carries what the notebook's cells
printed, in order, up to the failing cell: the executed notebook is an artifact to download."""

from __future__ import annotations

import nbformat

from jupyter_rapids_kf.pipelines.step import print_outputs


def test_the_log_shows_what_the_cells_printed(capsys):
    nb = nbformat.v4.new_notebook()
    first = nbformat.v4.new_code_cell("print('rows', 2)\n6 * 7")
    first.outputs = [nbformat.v4.new_output("stream", name="stdout", text="rows 2\n"),
                     nbformat.v4.new_output("execute_result", data={"text/plain": "42"}, execution_count=1)]
    note = nbformat.v4.new_markdown_cell("a note")
    failing = nbformat.v4.new_code_cell("import sys; print('to stderr', file=sys.stderr); 1 / 0")
    failing.outputs = [nbformat.v4.new_output("stream", name="stderr", text="to stderr"),
                       nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                              traceback=["..."]),
                       nbformat.v4.new_output("display_data", data={"image/png": "iVBOR"})]
    nb.cells = [first, note, failing]
    print_outputs(nb)
    assert capsys.readouterr().out == "rows 2\n42\nto stderr\n"
