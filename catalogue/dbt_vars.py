"""The dbt project's plain ``vars`` (``dbt_project.yml``) as Python reads them.

A tunable threshold is written once, as a dbt var; Python that needs the same number
(the report's default due days) reads it here instead of repeating it.  Only vars that
are plain values can be read: one built from ``env_var`` is dbt's to render.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project.yml"


@cache
def dbt_var(name: str) -> object:
    """The value of ``vars.<name>`` in dbt_project.yml; KeyError if it is not there, and
    ValueError if it is a Jinja expression (dbt renders those, Python cannot)."""
    with DBT_PROJECT.open(encoding="utf-8") as handle:
        value = yaml.safe_load(handle)["vars"][name]
    if isinstance(value, str) and "{{" in value:
        raise ValueError(f"dbt var {name} is a Jinja expression ({value}); dbt renders it")
    return value
