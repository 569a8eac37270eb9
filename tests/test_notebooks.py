"""The notebooks in notebooks/: each says what question it answers, is stored without
outputs, and runs top to bottom (at toy sizes: GRAPEVINE_SMALL=1)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.notebooks

nbformat = pytest.importorskip("nbformat", reason="pip install -e '.[notebooks]' (or '.[test]')")
nbclient = pytest.importorskip("nbclient", reason="pip install -e '.[notebooks]' (or '.[test]')")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# figures each notebook shows as the value of a cell (Results.plot, sensitivity_plots): pictures,
# without `%matplotlib inline` (the kernel runs with the Agg backend, as a plain Python would)
PICTURES = {"02-comparing-policies": 1, "03-sensitivity": 2}


def test_the_five_notebooks_are_there():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_clean_and_opens_with_its_question(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and "**Question:" in first.source
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear the outputs"
    assert any("GRAPEVINE_SMALL" in cell.source for cell in nb.cells if cell.cell_type == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    pytest.importorskip("ipykernel", reason="pip install -e '.[notebooks]' (or '.[test]')")
    monkeypatch.setenv("GRAPEVINE_SMALL", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError with the failing cell and traceback
    errors = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs if o.output_type == "error"]
    assert not errors
    shown = [o.get("data", {}) for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
             if o.output_type in ("execute_result", "display_data")]
    as_text = [data["text/plain"] for data in shown
               if "image/png" not in data and data.get("text/plain", "").startswith("<Figure")]
    assert not as_text, f"figures printed as text instead of shown: {as_text}"
    assert sum("image/png" in data for data in shown) >= PICTURES.get(path.stem, 0)
    assert not list(tmp_path.iterdir()) or all(p.name.startswith(".") for p in tmp_path.iterdir())
