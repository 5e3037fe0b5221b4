"""Refuse to serve a production node whose configuration would make its promises false."""

from __future__ import annotations

from genomenode.access.hardening import production_problems
from genomenode.errors import ConfigurationError
from genomenode.settings import Settings


def refuse_unsafe_production(settings: Settings) -> None:
    if settings.env != "production":
        return
    problems = production_problems(settings)
    if problems:
        raise ConfigurationError(
            "GENOMENODE_ENV=production refuses to start: " + "; ".join(problems) + " (see docs/security.md)"
        )
