"""Regenerate every measured figure, table and picture of the README and docs from the code.

    python docs/regenerate.py                      # all of the below
    python docs/regenerate.py --only validation    # docs/VALIDATION.md's tables (check-model, full size)
    python docs/regenerate.py --only poster        # docs/images/poster-*.png and the README's verdict block
    python docs/regenerate.py --only quickstart    # the README's copy of scenarios/quickstart.yaml
    python docs/regenerate.py --only model         # docs/MODEL.md's parameter tables
    python docs/regenerate.py --only verdicts      # docs/verdicts.yaml: every shipped scenario's verdicts

Each generated block sits between `<!-- NAME:start -->` and `<!-- NAME:end -->` markers and
says the command that produced it; everything outside the markers is written by hand. Run it
after a change to the model's defaults or rules, review `git diff`, and commit.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GRAPEVINE = [sys.executable, "-m", "sim.cli"]
POSTER_SCENARIO = "renewal-neglect"


def command(*args: str) -> str:
    """Run a grapevine command in the project folder; its standard output (exit 1 is a failing check)."""
    done = subprocess.run([*GRAPEVINE, *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"grapevine {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def replace_block(path: Path, name: str, body: str) -> None:
    text = path.read_text(encoding="utf-8")
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if start not in text or end not in text:
        raise SystemExit(f"{path}: no {start} ... {end} block")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{body.strip()}\n{end}{tail}", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)} ({name})")


def validation() -> None:
    doc = ROOT / "docs" / "VALIDATION.md"
    with tempfile.TemporaryDirectory() as folder:
        table = command("check-model", "--markdown", "--quiet", "--out", str(Path(folder) / "check"))
    replace_block(doc, "check-model", "Made by `grapevine check-model --markdown`.\n\n" + table)
    counts = next(line for line in table.splitlines() if line.startswith("Validations"))
    for path in (doc, ROOT / "README.md"):  # the two counts, apart, wherever a page shows them
        if "<!-- check-model-counts:start -->" in path.read_text(encoding="utf-8"):
            replace_block(path, "check-model-counts", counts)
    wom = command("check-model", "--wom")
    replace_block(doc, "wom", "Made by `grapevine check-model --wom`.\n\n```\n" + wom.strip() + "\n```")


def poster() -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        printed = command("run", POSTER_SCENARIO, "--out", str(out), "--quiet")
        shutil.copy(out / "figures" / "poster.png", ROOT / "docs" / "images" / f"poster-{POSTER_SCENARIO}.png")
    print(f"wrote docs/images/poster-{POSTER_SCENARIO}.png")
    verdict = printed.split("\n\n")
    table = next(part for part in verdict if part.lstrip().startswith("arm"))
    sentences = next(part for part in verdict if part.lstrip().startswith("- "))
    replace_block(ROOT / "README.md", "verdict",
                  f"```\n$ .venv/bin/grapevine run {POSTER_SCENARIO}\n{table.strip()}\n\n{sentences.strip()}\n```")


def quickstart() -> None:
    text = (ROOT / "scenarios" / "quickstart.yaml").read_text(encoding="utf-8")
    replace_block(ROOT / "README.md", "quickstart", f"```yaml\n{text.strip()}\n```")


def model() -> None:
    subprocess.run([sys.executable, str(ROOT / "docs" / "make_model_tables.py")], check=True)


def verdicts() -> None:
    """Re-measure every shipped scenario's verdicts, print what moved, rewrite docs/verdicts.yaml."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from sim.experiments import watch

    measured = watch.measure()
    moved = watch.differences(watch.load(), measured) if watch.RECORD.exists() else ["no record yet"]
    print("verdicts that moved (review before committing):" if moved else "verdicts: nothing moved")
    for line in moved:
        print(f"  {line}")
    watch.save(measured)
    print(f"wrote {watch.RECORD.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["validation", "poster", "quickstart", "model", "verdicts"])
    args = parser.parse_args()
    steps = {"model": model, "quickstart": quickstart, "validation": validation, "verdicts": verdicts,
             "poster": poster}
    for name, step in steps.items():
        if args.only in (None, name):
            step()


if __name__ == "__main__":
    main()
