"""Matching in ordered passes: keyed, rule, group (one-to-many, many-to-one), many-to-many.

- ``prepare``: both inputs to the open rows passes start from (ids checked, fields parsed);
- ``rules`` / ``select``: candidate pairs by blocking and scoring, one-to-one selection;
- ``keyed`` / ``rule``: the pass kinds of this module (group kinds register in ``run``);
- ``group`` / ``group_search`` / ``many``: one row against a group (by ``group_by`` or a
  bounded subset search, ``subset``), groups against groups; ``amounts``: their exact sums;
- ``run``: the passes in order, one status per input row, the summary;
- ``output``: a run published into an output folder.
"""

from __future__ import annotations

from recon.passes.group import run_group
from recon.passes.many import run_many_to_many
from recon.passes.outcome import OpenRows, PassOutcome
from recon.passes.output import compare_pass_files, reconcile_passes_to_dir
from recon.passes.rules import candidate_pairs
from recon.passes.run import RUNNERS, PassResult, run_passes
from recon.passes.select import select_pairs
from recon.passes.subset import SubsetResult, search_subset

__all__ = [
    "RUNNERS",
    "OpenRows",
    "PassOutcome",
    "PassResult",
    "SubsetResult",
    "candidate_pairs",
    "compare_pass_files",
    "reconcile_passes_to_dir",
    "run_group",
    "run_many_to_many",
    "run_passes",
    "search_subset",
    "select_pairs",
]
