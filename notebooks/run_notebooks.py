#!/usr/bin/python3
"""Executes the notebooks against a running crimemap and reports on each.

    /usr/bin/python3 notebooks/run_notebooks.py [--out DIR] [--timeout SECONDS] [NOTEBOOK ...]

Runs every notebook of this folder (or those named) with nbclient and the
`python3` Jupyter kernel, in this folder (so `import crimemap_api` works),
and writes each executed copy to --out (default: a new temporary folder).
The notebooks read CRIMEMAP_URL and CRIMEMAP_TOKEN from the environment.

Prints one JSON object: {"out": DIR, "notebooks": [{"name", "ok", "seconds",
"errors": [{"cell", "ename", "evalue"}], "figures", "markers", "executed"}]},
where figures counts the image/png outputs and markers holds the
`CRIMEMAP_CHECK name=value` lines the notebooks print. Exits 1 when a
notebook fails.
"""

import argparse
import glob
import json
import os
import re
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

HERE = os.path.dirname(os.path.abspath(__file__))
MARKER = re.compile(r"^CRIMEMAP_CHECK ([A-Za-z0-9_.-]+)=(.*)$", re.M)


def summarise(nb):
    """Errors, figures and markers of an executed notebook."""
    errors, figures, markers = [], 0, {}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind == "error":
                errors.append({"cell": i, "ename": out.get("ename", ""), "evalue": out.get("evalue", "")})
            elif kind in ("display_data", "execute_result") and "image/png" in out.get("data", {}):
                figures += 1
            elif kind == "stream" and out.get("name") == "stdout":
                for name, value in MARKER.findall(out.get("text", "")):
                    markers[name] = value.strip()
    return errors, figures, markers


def run(path, out_dir, timeout):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", startup_timeout=120,
                            resources={"metadata": {"path": HERE}})
    start = time.monotonic()
    failure = None
    try:
        client.execute()
    except CellExecutionError as err:  # the error output is in the cell too
        failure = {"cell": None, "ename": "CellExecutionError", "evalue": str(err).strip().splitlines()[-1][:500]}
    except (CellTimeoutError, DeadKernelError, RuntimeError) as err:
        failure = {"cell": None, "ename": type(err).__name__, "evalue": str(err)[:500]}
    seconds = round(time.monotonic() - start, 2)
    executed = os.path.join(out_dir, os.path.basename(path))
    nbformat.write(nb, executed)
    errors, figures, markers = summarise(nb)
    if failure and not errors:
        errors.append(failure)
    return {"name": os.path.basename(path), "ok": not errors, "seconds": seconds, "errors": errors,
            "figures": figures, "markers": markers, "executed": executed}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="folder for the executed copies (default: a new temporary folder)")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per cell (default 300)")
    ap.add_argument("notebooks", nargs="*", help="notebooks to run (default: every *.ipynb of this folder)")
    args = ap.parse_args()
    paths = args.notebooks or sorted(glob.glob(os.path.join(HERE, "*.ipynb")))
    out_dir = args.out or tempfile.mkdtemp(prefix="crimemap-notebooks-")
    os.makedirs(out_dir, exist_ok=True)
    os.environ.setdefault("MPLBACKEND", "Agg")  # no display; the notebooks draw inline (PNG)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiets ipykernel's debugger warning
    results = [run(os.path.abspath(p), out_dir, args.timeout) for p in paths]
    json.dump({"out": out_dir, "notebooks": results}, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0 if results and all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
