"""Run GX 1.x suites over pandas frames, keep their results and render GX Data Docs.

Suites are declared as plain data (:class:`Expect`: the name of a class in
``great_expectations.expectations`` and its arguments), so that building a suite costs
nothing and importing this module does not import Great Expectations (about 2.5 s).
GX is imported by :class:`GxRun` (and :func:`run_suites`) only.

Each :class:`GxRun` (one per :func:`run_suites` call, or one per check step over several
feeds) makes an ephemeral GX context whose expectation and
validation-result stores are folders next to the warehouse file (``<data>/gx/``), adds a
pandas data source, one dataframe asset and batch definition per frame and one
validation definition per suite, runs them, keeps the last :data:`KEEP_RESULTS` results
per suite and rebuilds the Data Docs site in ``<data>/gx_data_docs/``.  Nothing of this
is project configuration: it is generated on every run, under the git-ignored data
folder.  (GX's SQL path is not used: it fails on DuckDB through SQLAlchemy.)
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("csp.expectations")

DATA_DOCS_DIRNAME = "gx_data_docs"
STORE_DIRNAME = "gx"
DATA_DOCS_SITE = "csp_data_docs"
DATASOURCE = "warehouse"
# validation results kept per suite (older ones and their Data Docs pages are removed)
KEEP_RESULTS = 10
# offending rows kept per failed expectation (GX's partial_unexpected_count)
SAMPLE_ROWS = 20


@dataclass(frozen=True)
class Expect:
    """One expectation: a class of ``great_expectations.expectations`` and its arguments."""

    type: str
    kwargs: dict[str, Any]

    def build(self):
        import great_expectations.expectations as gxe

        kwargs = dict(self.kwargs)
        if isinstance(kwargs.get("row_condition"), tuple):
            kwargs["row_condition"] = _condition(*kwargs["row_condition"])
        return getattr(gxe, self.type)(**kwargs)


def _condition(column: str, operator: str, value: Any):
    """A GX row condition from plain data: ``("unit", "==", "percent")``, ``("q", "in", [1])``."""
    from great_expectations.expectations.row_conditions import Column

    col = Column(column)
    if operator == "in":
        return col.is_in(list(value))
    if operator == "not in":
        return col.is_not_in(list(value))
    operators = {
        "==": col.__eq__,
        "!=": col.__ne__,
        "<": col.__lt__,
        "<=": col.__le__,
        ">": col.__gt__,
        ">=": col.__ge__,
    }
    return operators[operator](value)


def expect(type_: str, **kwargs: Any) -> Expect:
    """``expect("ExpectColumnValuesToNotBeNull", column="x", description="...")``.

    ``row_condition`` may be plain data, ``(column, operator, value)`` with an operator of
    ``== != < <= > >= in``, ``not in``: it becomes a GX ``Condition`` when the suite is built.
    """
    return Expect(type_, kwargs)


@dataclass
class SuiteRun:
    """A suite and the frame it validates (one GX batch)."""

    suite: str  # GX suite name, e.g. "feed.idva_referrals"
    asset: str  # GX dataframe asset, e.g. "raw.idva_referrals"
    frame: pd.DataFrame
    expectations: list[Expect]
    # columns that name an offending row in GX's results, e.g. ("_file_name", "_source_row")
    index_columns: tuple[str, ...] = ()


@dataclass
class Failure:
    """A failed expectation and a sample of the rows that broke it."""

    suite: str
    expectation: str
    columns: tuple[str, ...]
    description: str
    unexpected_count: int | None = None
    element_count: int | None = None
    observed: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SuiteOutcome:
    suite: str
    success: bool
    evaluated: int
    rows: int
    failures: list[Failure]
    docs_url: str | None = None


def data_docs_dir(warehouse: Path | str) -> Path:
    """Where the Data Docs site goes: ``gx_data_docs/`` next to the warehouse file."""
    return Path(warehouse).resolve().parent / DATA_DOCS_DIRNAME


def store_dir(warehouse: Path | str) -> Path:
    """GX's expectation suites and validation results (JSON): ``gx/`` next to the warehouse."""
    return Path(warehouse).resolve().parent / STORE_DIRNAME


def _filesystem(base: Path) -> dict[str, str]:
    """A GX file store under ``base`` whose writes are atomic (``expectations.gx_store``)."""
    return {
        "module_name": "expectations.gx_store",
        "class_name": "AtomicFilesystemStoreBackend",
        "base_directory": str(base),
    }


def _view(class_name: str) -> dict[str, str]:
    """A view of ``expectations.data_docs``: values escaped, no CDN or other web request."""
    return {"module_name": "expectations.data_docs", "class_name": class_name}


def make_context(warehouse: Path | str):
    """An ephemeral GX context with file-backed stores and Data Docs next to the warehouse."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    from expectations.gx_store import discard_corrupt

    stores = store_dir(warehouse)
    discard_corrupt(stores)
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    config.stores[config.expectations_store_name]["store_backend"] = _filesystem(
        stores / "expectations"
    )
    config.stores[config.validation_results_store_name]["store_backend"] = _filesystem(
        stores / "validations"
    )
    config.data_docs_sites = {
        DATA_DOCS_SITE: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": _filesystem(data_docs_dir(warehouse)),
            "site_index_builder": {
                "class_name": "DefaultSiteIndexBuilder",
                "view": _view("SafeIndexPageView"),
            },
            "site_section_builders": {
                "expectations": {"view": _view("SafePageView")},
                "validations": {"view": _view("SafePageView")},
                "profiling": "None",
            },
        }
    }
    return gx.get_context(project_config=config, mode="ephemeral")


class GxRun:
    """One GX context for many suites, its Data Docs built once (:meth:`finish`).

    A step validating several feeds validates each (:meth:`validate`) as its frames are
    read, and renders the pages and the site index once at the end: rendering the index
    and copying the site's static files cost more than validating a small frame.
    """

    def __init__(self, warehouse: Path | str, run_name: str = "manual") -> None:
        from great_expectations.core.run_identifier import RunIdentifier

        self.warehouse = warehouse
        self.context = make_context(warehouse)
        self.source = self.context.data_sources.add_pandas(DATASOURCE)
        self.run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
        self.assets: dict[str, Any] = {}
        self.suites: list[str] = []
        self.keys: list[Any] = []
        self.outcomes: list[SuiteOutcome] = []

    def validate(self, runs: list[SuiteRun]) -> list[SuiteOutcome]:
        """Validate each frame against its suite and store the result (``docs_url`` is
        set by :meth:`finish`)."""
        import great_expectations as gx
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        context = self.context
        outcomes = []
        for run in runs:
            if run.asset not in self.assets:
                self.assets[run.asset] = self.source.add_dataframe_asset(run.asset)
            batch = self.assets[run.asset].add_batch_definition_whole_dataframe(run.suite)
            suite = context.suites.add_or_update(
                gx.ExpectationSuite(
                    name=run.suite, expectations=[e.build() for e in run.expectations]
                )
            )
            validation = context.validation_definitions.add(
                gx.ValidationDefinition(name=run.suite, data=batch, suite=suite)
            )
            result_format: dict[str, Any] = {
                "result_format": "SUMMARY",
                "partial_unexpected_count": SAMPLE_ROWS,
            }
            if run.index_columns:
                result_format["unexpected_index_column_names"] = list(run.index_columns)
                result_format["return_unexpected_index_query"] = False
            result = validation.run(
                batch_parameters={"dataframe": run.frame},
                result_format=result_format,
                run_id=self.run_id,
            )
            self.keys.append(
                ValidationResultIdentifier(
                    expectation_suite_identifier=ExpectationSuiteIdentifier(name=run.suite),
                    run_id=self.run_id,
                    batch_identifier=result.batch_id,
                )
            )
            self.suites.append(run.suite)
            outcomes.append(_outcome(run, result))
        self.outcomes += outcomes
        return outcomes

    def finish(self) -> None:
        """Prune old results; render the new pages and the site index once."""
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
        )

        context = self.context
        prune_results(context)
        try:
            context.build_data_docs(
                site_names=[DATA_DOCS_SITE],
                resource_identifiers=[
                    *{ExpectationSuiteIdentifier(name=suite) for suite in self.suites},
                    *self.keys,
                ],
            )
            for outcome, key in zip(self.outcomes, self.keys, strict=True):
                urls = context.get_docs_sites_urls(
                    resource_identifier=key, site_name=DATA_DOCS_SITE
                )
                outcome.docs_url = urls[0]["site_url"] if urls else None
        except Exception:  # Data Docs are a report: never let them fail a check
            log.exception("could not render GX Data Docs into %s", data_docs_dir(self.warehouse))


def run_suites(
    runs: list[SuiteRun], warehouse: Path | str, run_name: str = "manual"
) -> list[SuiteOutcome]:
    """Validate each frame against its suite; store the results and update Data Docs."""
    gx_run = GxRun(warehouse, run_name)
    outcomes = gx_run.validate(runs)
    gx_run.finish()
    return outcomes


def prune_results(context, keep: int = KEEP_RESULTS) -> None:
    """Keep the newest ``keep`` validation results of each suite."""
    store = context.validation_results_store
    by_suite: dict[str, list] = defaultdict(list)
    for key in store.list_keys():
        by_suite[key.expectation_suite_identifier.name].append(key)
    for suite_keys in by_suite.values():
        suite_keys.sort(key=lambda k: str(k.run_id.run_time), reverse=True)
        for key in suite_keys[keep:]:
            store.remove_key(key)


def _columns(kwargs: dict[str, Any]) -> tuple[str, ...]:
    if "column" in kwargs:
        return (kwargs["column"],)
    if "column_A" in kwargs:
        return (kwargs["column_A"], kwargs["column_B"])
    return tuple(kwargs.get("column_list") or ())


def _outcome(run: SuiteRun, result) -> SuiteOutcome:
    failures = []
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        details = item.result or {}
        observed = details.get("observed_value")
        exception = item.exception_info or {}
        if exception.get("raised_exception"):
            observed = f"GX raised: {exception.get('exception_message')}"
        failures.append(
            Failure(
                suite=run.suite,
                expectation=config.type,
                columns=_columns(config.kwargs),
                description=config.description or config.type,
                unexpected_count=details.get("unexpected_count"),
                element_count=details.get("element_count"),
                observed=None if observed is None else str(observed),
                rows=list(details.get("partial_unexpected_index_list") or []),
            )
        )
    return SuiteOutcome(
        suite=run.suite,
        success=bool(result.success),
        evaluated=len(result.results),
        rows=len(run.frame),
        failures=failures,
    )


# -- markdown for Dagster metadata -------------------------------------------------------


def md_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ").strip()


def md_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def failures_markdown(failures: list[Failure]) -> str:
    """One line per failed expectation: what it expects and how many rows break it."""
    lines = []
    for f in failures:
        count = ""
        if f.unexpected_count is not None:
            count = f" — {f.unexpected_count:,} of {f.element_count or 0:,} rows"
        elif f.observed is not None:
            count = f" — observed {f.observed}"
        on = f" on `{'`, `'.join(f.columns)}`" if f.columns else ""
        lines.append(f"- **{f.suite}**: `{f.expectation}`{on}: {f.description}{count}")
    return "\n".join(lines)


def sample_markdown(
    failures: list[Failure], index_columns: tuple[str, ...], limit: int = 50
) -> str | None:
    """The offending rows GX returned, as a table naming each row by ``index_columns``."""
    rows = []
    for f in failures:
        for row in f.rows:
            values = ", ".join(f"{name}={row[name]}" for name in row if name not in index_columns)
            rows.append([f.expectation, *(row.get(c) for c in index_columns), values])
    if not rows:
        return None
    table = md_table(["expectation", *index_columns, "value"], rows[:limit])
    if len(rows) > limit:
        table += f"\n\n({len(rows) - limit} more sampled rows not shown)"
    return table
