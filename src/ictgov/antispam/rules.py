"""Thresholds of the spam-number scan and the audits, and the criteria compiled to SQL.

The thresholds live in ``data/thresholds.yaml``; a file given with ``--config`` overrides
any of its keys (criteria are merged by ``id``: give ``{id: call_volume, at_least: 150}``
to move one threshold, ``{id: new_sim, enabled: false}`` to drop one).

Both scan engines (DuckDB and Spark) evaluate the same SQL expressions built here, so a
criterion cannot mean one thing in one engine and another in the other. The expressions
use only syntax that DuckDB and Spark SQL read alike (CASE, COALESCE, floor, CAST AS
DOUBLE/BIGINT/STRING, concat, concat_ws), and render values with integer arithmetic:
Java's and C's decimal formatting of a double round differently, integers do not.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "FEATURES",
    "Condition",
    "ConfigError",
    "Criterion",
    "Thresholds",
    "load_thresholds",
]

# Per number and day: name -> how its value is shown in reasons ("count", "share" as a
# whole percent, "ratio" with one decimal, "days"). The order is the CSV's column order.
FEATURES: dict[str, str] = {
    "volume": "count",
    "calls_out": "count",
    "sms_out": "count",
    "recipients": "count",
    "new_recipients": "count",
    "new_recipient_share": "share",
    "calls_in": "count",
    "sms_in": "count",
    "out_in_ratio": "ratio",
    "sms_share": "share",
    "short_calls": "count",
    "short_call_share": "share",
    "short_gaps": "count",
    "short_gap_share": "share",
    "template_senders": "count",
    "template_share": "share",
    "sim_age_days": "days",
}


class ConfigError(ValueError):
    """A thresholds file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class Condition:
    feature: str
    op: str  # ">=" or "<="
    value: float

    def sql(self) -> str:
        # NULL (a feature not judged on this day) never meets a condition.
        return f"COALESCE({self.feature} {self.op} CAST({_literal(self.value)} AS DOUBLE), FALSE)"

    def shown(self) -> str:
        return f"{self.feature} {self.op} {_show_constant(self.feature, self.value)}"


@dataclass(frozen=True)
class Criterion:
    id: str
    main: Condition
    also: tuple[Condition, ...] = ()
    weight: float = 0.25
    basis: str = ""

    def sql(self) -> str:
        return " AND ".join(c.sql() for c in (self.main, *self.also))

    def reason_sql(self) -> str:
        """The reason text when the criterion is met (its `met_` column), else NULL:
        'id (feature value op threshold)'."""
        c = self.main
        text = (f"concat('{self.id} ({c.feature} ', {_show_sql(c.feature)}, "
                f"' {c.op} {_show_constant(c.feature, c.value)})')")
        return f"CASE WHEN met_{self.id} THEN {text} END"


@dataclass(frozen=True)
class Thresholds:
    short_call_s: int = 10
    short_gap_s: int = 15
    min_calls: int = 10
    min_recipients: int = 10
    min_template_sms: int = 5
    template_min_senders: int = 5
    history_days: int = 2
    min_volume: int = 20
    min_score: float = 1.0
    criteria: tuple[Criterion, ...] = ()
    junk_sim: dict[str, Any] = field(default_factory=dict)
    advertisers: dict[str, Any] = field(default_factory=dict)
    source: str = "defaults"

    # -- SQL shared by the engines ---------------------------------------------------------

    def met_columns(self) -> list[tuple[str, str]]:
        """(column, boolean SQL) per criterion: evaluated once, then read by the score and
        the reasons (one small expression each instead of every condition three times)."""
        return [(f"met_{c.id}", c.sql()) for c in self.criteria]

    def score_sql(self) -> str:
        """Sum of the weights of the criteria met (a DOUBLE, added in the file's order),
        over the columns of `met_columns`."""
        if not self.criteria:
            return "CAST(0 AS DOUBLE)"
        terms = [f"CASE WHEN met_{c.id} THEN CAST({_literal(c.weight)} AS DOUBLE) "
                 f"ELSE CAST(0 AS DOUBLE) END" for c in self.criteria]
        return " + ".join(terms)

    def reasons_sql(self) -> str:
        """'; '-separated reasons of the criteria met, in the file's order ('' when none),
        over the columns of `met_columns`."""
        if not self.criteria:
            return "''"
        return "concat_ws('; ', " + ", ".join(c.reason_sql() for c in self.criteria) + ")"

    def flagged_sql(self, score: str = "score") -> str:
        return (f"(COALESCE(volume >= {int(self.min_volume)}, FALSE) "
                f"AND {score} >= CAST({_literal(self.min_score)} AS DOUBLE))")


def _literal(x: float) -> str:
    # repr gives the shortest text that reads back as the same double in both engines.
    return repr(float(x))


def _show_sql(feature: str) -> str:
    kind = FEATURES[feature]
    if kind == "share":
        return f"concat(CAST(CAST(floor({feature} * 100) AS BIGINT) AS STRING), '%')"
    if kind == "ratio":
        tenths = f"CAST(floor({feature} * 10) AS BIGINT)"
        return (f"concat(CAST(CAST(floor({tenths} / 10) AS BIGINT) AS STRING), '.', "
                f"CAST({tenths} % 10 AS STRING))")
    return f"CAST({feature} AS STRING)"


def _show_constant(feature: str, value: float) -> str:
    kind = FEATURES[feature]
    if kind == "share":
        pct = value * 100
        return f"{pct:g}%"
    return f"{value:g}"


# -- loading -------------------------------------------------------------------------------


def _default_text() -> str:
    return resources.files("ictgov.antispam").joinpath("data/thresholds.yaml").read_text("utf-8")


def _merge(base: dict, over: dict, where: str) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if key == "criteria":
            out["criteria"] = _merge_criteria(base.get("criteria", []), value, where)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, f"{where}{key}.")
        else:
            out[key] = value
    return out


def _merge_criteria(base: list, over: Any, where: str) -> list:
    if not isinstance(over, list):
        raise ConfigError(f"{where}criteria: must be a list of criteria")
    merged = {c["id"]: dict(c) for c in base}
    order = [c["id"] for c in base]
    for k, item in enumerate(over):
        if not isinstance(item, dict) or "id" not in item:
            raise ConfigError(f"{where}criteria[{k}]: each criterion needs an id")
        cid = item["id"]
        if cid in merged:
            entry = merged[cid]
            if "at_least" in item or "at_most" in item:  # one direction replaces the other
                entry.pop("at_least", None)
                entry.pop("at_most", None)
            entry.update(item)
        else:
            merged[cid] = dict(item)
            order.append(cid)
    return [merged[cid] for cid in order if merged[cid].get("enabled", True)]


def _number(where: str, value: Any, *, integer: bool = False, minimum: float | None = 0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where}: must be a number, not {value!r}")
    if integer and value != int(value):
        raise ConfigError(f"{where}: must be a whole number, not {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{where}: must be at least {minimum}, not {value!r}")
    return int(value) if integer else float(value)


def _condition(where: str, raw: dict) -> Condition:
    feature = raw.get("feature")
    if feature not in FEATURES:
        raise ConfigError(f"{where}.feature: {feature!r} is not a feature "
                          f"(one of {', '.join(FEATURES)})")
    ops = [k for k in ("at_least", "at_most") if k in raw]
    if len(ops) != 1:
        raise ConfigError(f"{where}: give exactly one of at_least, at_most")
    value = _number(f"{where}.{ops[0]}", raw[ops[0]], minimum=None)
    return Condition(feature, ">=" if ops[0] == "at_least" else "<=", value)


def _build(data: dict, source: str) -> Thresholds:
    where = f"{source}: "
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the file must hold a mapping of settings")
    feats = data.get("features", {}) or {}
    flag = data.get("flag", {}) or {}
    known_feats = {"short_call_s", "short_gap_s", "min_calls", "min_recipients",
                   "min_template_sms", "template_min_senders", "history_days"}
    for key in feats:
        if key not in known_feats:
            raise ConfigError(f"{where}features.{key}: unknown setting")
    for key in flag:
        if key not in ("min_volume", "min_score"):
            raise ConfigError(f"{where}flag.{key}: unknown setting")
    # The shares divide by these counts (short gaps by calls - 1), so they stay positive.
    floors = {"min_calls": 2, "min_recipients": 1, "min_template_sms": 1, "template_min_senders": 1}
    kwargs = {k: _number(f"{where}features.{k}", v, integer=True, minimum=floors.get(k, 0))
              for k, v in feats.items()}
    if "min_volume" in flag:
        kwargs["min_volume"] = _number(f"{where}flag.min_volume", flag["min_volume"], integer=True)
    if "min_score" in flag:
        kwargs["min_score"] = _number(f"{where}flag.min_score", flag["min_score"])
    criteria = []
    seen = set()
    for k, raw in enumerate(data.get("criteria", []) or []):
        at = f"{where}criteria[{k}]"
        cid = str(raw.get("id", ""))
        if not cid.replace("_", "").isalnum() or not cid.isascii():
            raise ConfigError(f"{at}.id: {cid!r} must be letters, digits and underscores")
        if cid in seen:
            raise ConfigError(f"{at}.id: {cid!r} appears twice")
        seen.add(cid)
        unknown = set(raw) - {"id", "feature", "at_least", "at_most", "and", "weight", "basis",
                              "enabled"}
        if unknown:
            raise ConfigError(f"{at}: unknown key(s) {', '.join(sorted(unknown))}")
        main = _condition(at, raw)
        also = raw.get("and", []) or []
        if not isinstance(also, list):
            raise ConfigError(f"{at}.and: must be a list of conditions")
        extra = tuple(_condition(f"{at}.and[{j}]", c if isinstance(c, dict) else {})
                      for j, c in enumerate(also))
        weight = _number(f"{at}.weight", raw.get("weight", 0.25))
        basis = str(raw.get("basis", ""))
        criteria.append(Criterion(cid, main, extra, weight, basis))
    junk = dict(data.get("junk_sim", {}) or {})
    for key in ("max_numbers_per_id", "burst_min", "silent_days", "spam_within_days"):
        if key in junk:
            junk[key] = _number(f"{where}junk_sim.{key}", junk[key], integer=True)
    if "burst_factor" in junk:
        junk["burst_factor"] = _number(f"{where}junk_sim.burst_factor", junk["burst_factor"])
    ads = dict(data.get("advertisers", {}) or {})
    for key in ("max_sms_24h", "max_email_24h", "max_calls_24h"):
        if key in ads:
            ads[key] = _number(f"{where}advertisers.{key}", ads[key], integer=True)
    for key in ("sms_hours", "call_hours"):
        if key in ads:
            ads[key] = _hours(f"{where}advertisers.{key}", ads[key])
    return Thresholds(**kwargs, criteria=tuple(criteria), junk_sim=junk, advertisers=ads,
                      source=source)


def _hours(where: str, value: Any) -> tuple[int, int]:
    """["07:00", "22:00"] -> seconds after midnight of the start and the end."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ConfigError(f"{where}: give [start, end] as two times HH:MM")
    out = []
    for v in value:
        try:
            hh, mm = str(v).split(":")
            h, m = int(hh), int(mm)
            if not (0 <= h <= 24 and 0 <= m < 60 and h * 60 + m <= 1440):
                raise ValueError
        except ValueError:
            raise ConfigError(f"{where}: {v!r} is not a time HH:MM") from None
        out.append(h * 3600 + m * 60)
    if out[0] >= out[1]:
        raise ConfigError(f"{where}: the start must be before the end")
    return out[0], out[1]


def load_thresholds(path: str | Path | None = None) -> Thresholds:
    """The bundled thresholds, with the keys of the file at `path` (if any) laid over them."""
    base = yaml.safe_load(_default_text())
    if path is None:
        return _build(base, "thresholds.yaml")
    path = Path(path)
    try:
        over = yaml.safe_load(path.read_text("utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(over, dict):
        raise ConfigError(f"{path}: the file must hold a mapping of settings")
    return _build(_merge(base, over, f"{path}: "), str(path))
