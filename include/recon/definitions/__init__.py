"""Recon definitions: one YAML file in ``config/recons/`` is a whole daily reconciliation.

- ``model``: the definition (schedule, sides, inline spec, results, alerts);
- ``sides``: the two sides, and the registry of source kinds (``Side``'s fields);
- ``sources``: what each side reads (S3, SFTP, SQL, MongoDB), one class per kind;
- ``patterns``: ``{date}`` placeholders in keys, paths and pipelines;
- ``loader``: YAML -> ``ReconDefinition``, or one error listing every mistake located.
"""

from __future__ import annotations

from recon.definitions.loader import is_recon_definition, load_recon_definition
from recon.definitions.model import ReconConfigError, ReconDefinition
from recon.definitions.sides import Side
from recon.definitions.sources import MongoReader, S3Reader, SftpReader, SqlReader

__all__ = [
    "MongoReader",
    "ReconConfigError",
    "ReconDefinition",
    "S3Reader",
    "SftpReader",
    "Side",
    "SqlReader",
    "is_recon_definition",
    "load_recon_definition",
]
