"""Which recon definitions of ``config/recons/`` make DAGs, and which are invalid and why.

Read by the two DAG files at every parse (the YAML files only: no other I/O). Each file is
loaded by the same :func:`recon.definitions.load_recon_definition` as ``recon validate``, so an
invalid file's message is the command line's. Across files, a dag_id used twice, or taken by
a Python DAG file of the DAG folder, makes the later file invalid (never both DAGs silently
replacing each other).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from recon.definitions import ReconConfigError, ReconDefinition, load_recon_definition
from recon.definitions.loader import listing
from recon.errors import Problem
from recon_airflow.settings import REPO_ROOT

SUFFIXES: Final = (".yaml", ".yml")


@dataclass(frozen=True)
class ConfigFolder:
    """The definitions of one folder: the valid ones (by file) and one message per invalid file."""

    folder: Path
    definitions: dict[Path, ReconDefinition] = field(default_factory=dict)
    errors: dict[Path, str] = field(default_factory=dict)

    def error_report(self) -> str:
        """Every invalid file's message, one per line, under a line saying what happened."""
        count = len(self.errors)
        head = (
            f"{count} invalid recon definition(s) in {shown(self.folder)}: each makes no DAG "
            "(the valid ones still do); `recon validate <file>` says the same"
        )
        return "\n".join([head, *self.errors.values()])


def shown(path: Path) -> str:
    """How messages name a file: relative to the repository when inside it."""
    resolved = path.resolve()
    if resolved.is_relative_to(REPO_ROOT):
        return str(resolved.relative_to(REPO_ROOT))
    return str(path)


def read_config_folder(folder: Path, *, dags_folder: Path | None = None) -> ConfigFolder:
    """Load every ``*.yaml`` of ``folder`` (none if it does not exist).

    :param dags_folder: its ``<dag_id>.py`` files' stems are taken dag_ids.
    """
    found = ConfigFolder(folder)
    paths = sorted(p for p in folder.glob("*") if p.suffix in SUFFIXES) if folder.is_dir() else []
    owners: dict[str, Path] = {}
    for path in paths:
        name = shown(path)
        try:
            recon = load_recon_definition(path, shown=name)
        except ReconConfigError as exc:
            found.errors[path] = str(exc)
            continue
        taken = owners.get(recon.dag_id)
        python = dags_folder / f"{recon.dag_id}.py" if dags_folder is not None else None
        if taken is not None or (python is not None and python.is_file()):
            other = shown(taken) if taken is not None else shown(python)  # type: ignore[arg-type]
            problem = Problem(
                f"dag_id `{recon.dag_id}` is already the DAG of {other}",
                path=f"{name}: dag_id",
                hint="set another `dag_id:` (or rename the file)",
            )
            found.errors[path] = str(listing(name, [problem]))
            continue
        owners[recon.dag_id] = path
        found.definitions[path] = recon
    return found


__all__ = ["ConfigFolder", "read_config_folder", "shown"]
