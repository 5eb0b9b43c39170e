"""Frameworks: the versioned YAML files that define an assessment, loaded and checked.

Three kinds share one file format:

- ``enterprise``: pillars > components > criteria, each criterion answered on a named answer
  scale whose options carry a share of the criterion's points, and level rules (a pillar's
  level from its share of the pillar maximum, the overall level from the total and a count
  of pillars at the level). Decision 1970/QĐ-BTTTT's SME index is one.
- ``maturity``: pillars > components > criteria answered on scales as above, and levels by
  the total alone, each from a published or chosen cut-off ("at least 90 points is Xuất
  sắc"); an appraisal council may then adjust any criterion's points. Decision
  951/QĐ-BTTTT's press digital-maturity index is one.
- ``index``: a composite index of areas, main indicators (each a value in [0, 1]) with
  points, grouped into pillar groups; index = Σ value × points / total (Decision 922).

A file is identified by ``id`` and ``version``; a corrected or new methodology is a new file,
never an edit, and every result carries ``id@version`` and the file's digest so it can be
traced to the exact rules it was computed with. Everything is checked when the file is read
and every problem is reported at once, each with the file, the line and the path inside it
(``dbi-sme-2021.v1.yaml:41: pillars[2].components[1].points: ...``).

Points and shares are exact fractions: level boundaries are comparisons such as 39/65 > 0.6,
which binary floating point gets wrong in the last bit.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
)

__all__ = [
    "EnterpriseFramework",
    "Framework",
    "FrameworkError",
    "IndexFramework",
    "MaturityFramework",
    "Problem",
    "Text",
    "available",
    "bundled",
    "get",
    "load_file",
    "load_text",
    "yaml_load",
]

KINDS = ("enterprise", "maturity", "index")
# Larger sets of reachable pillar scores are not enumerated (the check is skipped): a
# framework with fractional shares on many criteria could otherwise take unbounded time.
_REACHABLE_CAP = 50_000


# -- YAML --------------------------------------------------------------------------------------


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe YAML with two fixes for hand-written data files.

    Only ``true``/``false`` are booleans (YAML 1.2): under YAML 1.1 an option coded ``no``
    or ``yes`` would silently become a boolean. A key given twice is an error, where PyYAML
    would keep the last one without a word.
    """


_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice (first on line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def yaml_load(text: str, source: str = "<text>") -> Any:
    """Parse YAML as frameworks and answer files are parsed; errors raise FrameworkError."""
    return _parse(text, source)[0]


def _parse(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """The data and the composed node tree (whose marks give each path its line)."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        return (loader.construct_document(root) if root is not None else None), root
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise FrameworkError(source, [Problem("", f"YAML: {exc.problem or exc}", line)]) from None
    except yaml.YAMLError as exc:
        raise FrameworkError(source, [Problem("", f"YAML: {exc}", None)]) from None
    finally:
        loader.dispose()


def _line_of(root: yaml.Node | None, path: tuple) -> int | None:
    """The line (1-based) of the deepest node on `path` that exists in the composed YAML."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for step in path:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if k.value == str(step)), None)
            if found is None:
                break
            line = found[0].start_mark.line + 1
            node = found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            break
    return line


# -- errors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    path: str  # "pillars[2].components[1].points"; "" for the whole file
    message: str
    line: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "message": self.message}


class FrameworkError(ValueError):
    """A framework file that cannot be used; ``problems`` lists everything wrong with it."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        out = []
        for p in self.problems:
            where = self.source + (f":{p.line}" if p.line else "")
            out.append(f"{where}: {p.path + ': ' if p.path else ''}{p.message}")
        return out


def _path(loc: tuple) -> str:
    out = ""
    for step in loc:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


# -- the model -------------------------------------------------------------------------------


def _exact(value: Any) -> Any:
    """Points and shares as exact fractions; 0.1 means one tenth, not the nearest double."""
    if isinstance(value, bool):
        # pydantic turns ValueError, not TypeError, into a located validation error
        raise ValueError("a number is expected, not true/false")  # noqa: TRY004
    if isinstance(value, (int, float, str)):
        try:
            return Fraction(str(value).strip())
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"{value!r} is not a number") from None
    return value


Exact = Annotated[Fraction, BeforeValidator(_exact)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Text(_Model):
    """Every text a user reads exists in Vietnamese and English."""

    vi: Label
    en: Label

    def get(self, lang: str = "vi") -> str:
        return self.en if lang == "en" else self.vi


class Option(_Model):
    code: Code
    share: Exact  # of the criterion's points
    label: Text


class Scale(_Model):
    name: Text | None = None
    options: list[Option] = Field(min_length=2)

    @cached_property
    def by_code(self) -> dict[str, Option]:
        return {o.code: o for o in self.options}


# Where a figure of a framework comes from: the published text, or the project's reading
# where the text is silent (to be replaced by the official figure, in a new version, when
# it is found). Optional: a file that does not say defers to its ``reading`` paragraph.
Basis = Literal["published", "reading"]


class Criterion(_Model):
    code: Code
    text: Text
    points: Exact
    scale: str
    help: Text | None = None
    basis: Basis | None = None


class Component(_Model):
    code: Code
    name: Text
    points: Exact
    criteria: list[Criterion] = Field(min_length=1)
    basis: Basis | None = None


class Pillar(_Model):
    code: Code
    name: Text
    points: Exact
    components: list[Component] = Field(min_length=1)
    basis: Basis | None = None

    @property
    def criteria(self) -> Iterator[Criterion]:
        for component in self.components:
            yield from component.criteria


class Level(_Model):
    level: int
    name: Text
    # A pillar is at this level when its share of the pillar maximum is strictly above this.
    pillar_share_above: Exact | None = None
    # The overall level needs a total strictly above this and enough pillars at the level.
    total_above: Exact | None = None
    pillars_at_level: int | None = None


class _FrameworkBase(_Model):
    kind: str
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
    version: int = Field(ge=1)
    name: Text
    source: Label  # the published text this reads
    reading: Label  # what the project decided where the published text does not say
    total: Exact

    _file: str = PrivateAttr(default="")
    _digest: str = PrivateAttr(default="")

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def file(self) -> str:
        return self._file

    @property
    def digest(self) -> str:
        """sha256 of the file's bytes: results record it, so an edited file is detectable."""
        return self._digest

    def identity(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "digest": self.digest}


class _Questionnaire(_FrameworkBase):
    """Pillars > components > criteria answered on scales: what enterprise and maturity
    frameworks share; each kind brings its own level rules as ``levels``."""

    answer_scales: dict[Code, Scale]
    pillars: list[Pillar] = Field(min_length=1)

    @cached_property
    def criteria(self) -> dict[str, tuple[Pillar, Component, Criterion]]:
        """Criterion code -> (pillar, component, criterion), in questionnaire order."""
        return {c.code: (p, comp, c) for p in self.pillars for comp in p.components for c in comp.criteria}

    @property
    def top_level(self) -> int:
        return self.levels[-1].level

    def level_name(self, level: int) -> Text:
        return self.levels[level].name

    def scale_of(self, criterion: Criterion) -> Scale:
        return self.answer_scales[criterion.scale]


class EnterpriseFramework(_Questionnaire):
    kind: Literal["enterprise"]
    levels: list[Level] = Field(min_length=2)


class MaturityLevel(_Model):
    level: int
    name: Text
    # The total that reaches this level (inclusive: "90 and above"); none for level 0.
    total_at_least: Exact | None = None
    basis: Basis | None = None


class MaturityFramework(_Questionnaire):
    """Levels by the total alone; criteria scored as in an enterprise framework."""

    kind: Literal["maturity"]
    # Who is assessed (a press agency ...): shown in pages, never interpreted.
    unit: Code
    levels: list[MaturityLevel] = Field(min_length=2)

    def level_of(self, total: Fraction) -> int:
        """The highest level whose cut-off the total reaches."""
        level = 0
        for rule in self.levels[1:]:
            if total >= rule.total_at_least:
                level = rule.level
        return level


class Group(_Model):
    code: Code
    name: Text
    points: Exact


class Indicator(_Model):
    code: Code
    name: Text
    points: Exact  # 0: published and collected, not scored (smart city in 2022)
    group: Code
    components: int | None = Field(default=None, ge=0)  # how many component indicators it sums


class IndexFramework(_FrameworkBase):
    kind: Literal["index"]
    unit: Literal["province", "ministry"]
    # Published values have this many decimals; ranks are taken on values rounded to it.
    precision: int = Field(default=4, ge=0, le=10)
    groups: list[Group] = Field(min_length=1)
    indicators: list[Indicator] = Field(min_length=1)

    @property
    def scored(self) -> list[Indicator]:
        return [i for i in self.indicators if i.points > 0]

    def group_indicators(self, group: str) -> list[Indicator]:
        return [i for i in self.indicators if i.group == group]


Framework = EnterpriseFramework | MaturityFramework | IndexFramework


# -- checks beyond the types ------------------------------------------------------------------


def _duplicates(items: list[tuple[str, tuple]], what: str) -> Iterator[tuple[tuple, str]]:
    counts = Counter(code for code, _ in items)
    first: dict[str, tuple] = {}
    for code, loc in items:
        if counts[code] > 1:
            if code in first:
                yield loc, f"duplicate {what} code {code!r} (also at {_path(first[code])})"
            else:
                first[code] = loc


def _fmt(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{float(x):g}"


def _reachable(pillar: Pillar, scales: dict[str, Scale]) -> set[Fraction] | None:
    sums: set[Fraction] = {Fraction(0)}
    for c in pillar.criteria:
        scale = scales.get(c.scale)
        if scale is None:
            return None
        sums = {s + c.points * o.share for s in sums for o in scale.options}
        if len(sums) > _REACHABLE_CAP:
            return None
    return sums


def _check_enterprise(fw: EnterpriseFramework) -> Iterator[tuple[tuple, str]]:
    yield from _check_questionnaire(fw)
    yield from _check_levels(fw)


def _check_questionnaire(fw: _Questionnaire) -> Iterator[tuple[tuple, str]]:
    """Codes unique, scales known and reachable, points that add up from criteria to the total."""
    pillars = fw.pillars
    yield from _duplicates([(p.code, ("pillars", i, "code")) for i, p in enumerate(pillars)], "pillar")
    yield from _duplicates([(c.code, ("pillars", i, "components", j, "code"))
                            for i, p in enumerate(pillars) for j, c in enumerate(p.components)], "component")
    yield from _duplicates([(c.code, ("pillars", i, "components", j, "criteria", k, "code"))
                            for i, p in enumerate(pillars) for j, comp in enumerate(p.components)
                            for k, c in enumerate(comp.criteria)], "criterion")

    for name, scale in fw.answer_scales.items():
        yield from _duplicates([(o.code, ("answer_scales", name, "options", i, "code"))
                                for i, o in enumerate(scale.options)], "option")
        for i, o in enumerate(scale.options):
            if not 0 <= o.share <= 1:
                yield ("answer_scales", name, "options", i, "share"), f"share {_fmt(o.share)} is outside [0, 1]"
        if max(o.share for o in scale.options) != 1:
            yield (("answer_scales", name, "options"),
                   "no option has share 1, so no criterion on this scale can reach its points")

    known = ", ".join(sorted(fw.answer_scales)) or "none"
    for i, p in enumerate(pillars):
        pillar_sum = Fraction(0)
        for j, comp in enumerate(p.components):
            criteria_sum = Fraction(0)
            for k, c in enumerate(comp.criteria):
                loc = ("pillars", i, "components", j, "criteria", k)
                if c.scale not in fw.answer_scales:
                    yield loc + ("scale",), f"unknown answer scale {c.scale!r}; scales are {known}"
                if c.points <= 0:
                    yield loc + ("points",), f"points must be positive, not {_fmt(c.points)}"
                criteria_sum += c.points
            if criteria_sum != comp.points:
                yield (("pillars", i, "components", j, "points"),
                       (f"{_fmt(comp.points)} declared, its {len(comp.criteria)} criteria add up to "
                        f"{_fmt(criteria_sum)}"))
            pillar_sum += comp.points
        if pillar_sum != p.points:
            yield (("pillars", i, "points"),
                   f"{_fmt(p.points)} declared, its {len(p.components)} components add up to {_fmt(pillar_sum)}")
    pillars_sum = sum((p.points for p in pillars), Fraction(0))
    if pillars_sum != fw.total:
        yield ("total",), f"{_fmt(fw.total)} declared, the {len(pillars)} pillars add up to {_fmt(pillars_sum)}"


def _check_maturity(fw: MaturityFramework) -> Iterator[tuple[tuple, str]]:
    yield from _check_questionnaire(fw)
    levels = fw.levels
    for i, lv in enumerate(levels):
        if lv.level != i:
            yield ("levels", i, "level"), f"levels must be numbered 0, 1, 2 ... in order; found {lv.level} at position {i}"
            return
    if levels[0].total_at_least is not None:
        yield ("levels", 0, "total_at_least"), "level 0 is where everyone starts: it takes no cut-off"
    previous = Fraction(0)
    for i, lv in enumerate(levels[1:], start=1):
        loc = ("levels", i, "total_at_least")
        cut = lv.total_at_least
        if cut is None:
            yield loc, f"level {i} needs total_at_least"
            return
        if not 0 < cut <= fw.total:
            yield loc, f"cannot be met: the total is between 0 and {_fmt(fw.total)}, the cut-off is {_fmt(cut)}"
        elif cut <= previous:
            yield loc, f"must be above level {i - 1}'s {_fmt(previous)}"
        previous = cut


def _check_levels(fw: EnterpriseFramework) -> Iterator[tuple[tuple, str]]:
    levels, n_pillars = fw.levels, len(fw.pillars)
    for i, lv in enumerate(levels):
        if lv.level != i:
            yield ("levels", i, "level"), f"levels must be numbered 0, 1, 2 ... in order; found {lv.level} at position {i}"
            return
    first = levels[0]
    for attr in ("pillar_share_above", "total_above", "pillars_at_level"):
        if getattr(first, attr) is not None:
            yield ("levels", 0, attr), "level 0 is where everyone starts: it takes no condition"
    rules_ok = True
    for i, lv in enumerate(levels[1:], start=1):
        for attr in ("pillar_share_above", "total_above", "pillars_at_level"):
            if getattr(lv, attr) is None:
                yield ("levels", i, attr), f"level {i} needs {attr}"
                rules_ok = False
    if not rules_ok:
        return
    for i, lv in enumerate(levels[1:], start=1):
        loc = ("levels", i)
        prev = levels[i - 1]
        share, above, count = lv.pillar_share_above, lv.total_above, lv.pillars_at_level
        if not 0 <= share < 1:
            yield (loc + ("pillar_share_above",),
                   f"cannot be met: a pillar's share of its maximum is at most 1, and must be above {_fmt(share)}")
        if not 0 <= above < fw.total:
            yield (loc + ("total_above",),
                   f"cannot be met: the total is at most {_fmt(fw.total)}, and must be above {_fmt(above)}")
        if not 1 <= count <= n_pillars:
            yield (loc + ("pillars_at_level",),
                   f"cannot be met: {count} pillars at level {i} are required, the framework has {n_pillars}")
        if i > 1:
            # Monotone rules make "the highest level whose conditions hold" and "climb while
            # the next level's conditions hold" the same thing.
            if share <= prev.pillar_share_above:
                yield loc + ("pillar_share_above",), f"must be above level {i - 1}'s {_fmt(prev.pillar_share_above)}"
            if above <= prev.total_above:
                yield loc + ("total_above",), f"must be above level {i - 1}'s {_fmt(prev.total_above)}"
            if count < prev.pillars_at_level:
                yield loc + ("pillars_at_level",), f"must be at least level {i - 1}'s {prev.pillars_at_level}"

    shares = [lv.pillar_share_above for lv in levels[1:]]
    if shares != sorted(set(shares)) or not all(0 <= s < 1 for s in shares):
        return
    for i, p in enumerate(fw.pillars):
        reachable = _reachable(p, fw.answer_scales)
        if reachable is None:
            continue
        bounds = [*shares, Fraction(1)]
        for lv in range(1, len(levels)):
            low, high = bounds[lv - 1] * p.points, bounds[lv] * p.points
            if not any(low < s <= high for s in reachable):
                yield (("pillars", i, "points"),
                       (f"level {lv} of pillar {p.code!r} cannot be met: no combination of answers gives a "
                        f"score above {_fmt(low)} and at most {_fmt(high)} (of {_fmt(p.points)})"))


def _check_index(fw: IndexFramework) -> Iterator[tuple[tuple, str]]:
    yield from _duplicates([(g.code, ("groups", i, "code")) for i, g in enumerate(fw.groups)], "group")
    yield from _duplicates([(x.code, ("indicators", i, "code")) for i, x in enumerate(fw.indicators)], "indicator")
    groups = {g.code for g in fw.groups}
    for i, x in enumerate(fw.indicators):
        if x.group not in groups:
            yield ("indicators", i, "group"), f"unknown group {x.group!r}; groups are {', '.join(sorted(groups))}"
        if x.points < 0:
            yield ("indicators", i, "points"), f"points must not be negative, not {_fmt(x.points)}"
    for i, g in enumerate(fw.groups):
        members = fw.group_indicators(g.code)
        added = sum((x.points for x in members), Fraction(0))
        if added != g.points:
            yield (("groups", i, "points"),
                   f"{_fmt(g.points)} declared, its {len(members)} indicators add up to {_fmt(added)}")
        if g.points <= 0:
            yield ("groups", i, "points"), "a group must carry points, or its score is 0/0"
    groups_sum = sum((g.points for g in fw.groups), Fraction(0))
    if groups_sum != fw.total:
        yield ("total",), f"{_fmt(fw.total)} declared, the {len(fw.groups)} groups add up to {_fmt(groups_sum)}"
    if fw.total <= 0:
        yield ("total",), "the total must be positive"


# -- loading ---------------------------------------------------------------------------------


def load_text(text: str, source: str = "<text>") -> Framework:
    """Parse and check one framework; raises FrameworkError listing every problem."""
    data, root = _parse(text, source)

    def problem(loc: tuple, message: str) -> Problem:
        return Problem(_path(loc), message, _line_of(root, loc))

    if not isinstance(data, dict):
        raise FrameworkError(source, [Problem("", "a framework is a YAML mapping (id, version, kind, ...)", 1)])
    kind = data.get("kind")
    models = {"enterprise": EnterpriseFramework, "maturity": MaturityFramework, "index": IndexFramework}
    if kind not in models:
        raise FrameworkError(source, [problem(("kind",), f"kind must be one of {', '.join(KINDS)}, not {kind!r}")])
    try:
        fw = models[kind].model_validate(data)
    except ValidationError as exc:
        raise FrameworkError(source, [problem(tuple(e["loc"]), e["msg"]) for e in exc.errors()]) from None
    checkers = {"enterprise": _check_enterprise, "maturity": _check_maturity, "index": _check_index}
    checks = checkers[fw.kind](fw)
    problems = sorted((problem(loc, message) for loc, message in checks), key=lambda p: p.line or 0)
    if problems:
        raise FrameworkError(source, problems)
    fw._file = source
    fw._digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return fw


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def load_file(path: str | Path) -> Framework:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FrameworkError(path.name, [Problem("", f"cannot read: {exc}")]) from None
    return load_text(text, path.name)


# Folders of frameworks beyond the bundled ones (os.pathsep-separated): an official revision
# (the press index of Decision 1827, say) can be installed as a new version without a release.
EXTRA_DIRS_ENV = "ICTGOV_FRAMEWORKS_DIR"


def _framework_files() -> list:
    files = sorted(resources.files("ictgov.dx").joinpath("frameworks").iterdir(), key=lambda e: e.name)
    for folder in filter(None, os.environ.get(EXTRA_DIRS_ENV, "").split(os.pathsep)):
        if Path(folder).is_dir():
            files += sorted(Path(folder).iterdir(), key=lambda e: e.name)
    return files


@lru_cache(maxsize=1)
def bundled() -> dict[str, Framework]:
    """The frameworks shipped in ``ictgov/dx/frameworks`` and those of the folders named by
    ``ICTGOV_FRAMEWORKS_DIR``, by ``id@version``; checked on first use (``bundled.cache_clear()``
    reads the folders again).

    A broken bundled file is an error here, not a framework that quietly goes missing.
    """
    found: dict[str, Framework] = {}
    errors: list[str] = []
    for entry in _framework_files():
        if not entry.name.endswith(".yaml"):
            continue
        try:
            fw = load_text(entry.read_text(encoding="utf-8"), entry.name)
        except FrameworkError as exc:
            errors.extend(exc.lines())
            continue
        if fw.ref in found:
            errors.append(f"{entry.name}: {fw.ref} is already defined by {found[fw.ref].file}")
            continue
        found[fw.ref] = fw
    if errors:
        raise FrameworkError("ictgov/dx/frameworks", [Problem("", e) for e in errors])
    return found


def available(kind: str | None = None) -> list[Framework]:
    """Bundled frameworks, by id then version."""
    return sorted((f for f in bundled().values() if kind is None or f.kind == kind),
                  key=lambda f: (f.id, f.version))


def get(ref: str, kind: str | None = None) -> Framework:
    """A framework by ``id`` (its latest version), ``id@version``, or the path of a YAML file.

    Raises KeyError with the known references when nothing matches, FrameworkError when a
    file does not pass the checks, and TypeError when it is not of the `kind` asked for.
    """
    ref = ref.strip()
    if ref.endswith((".yaml", ".yml")):
        if not Path(ref).is_file():
            raise KeyError(f"framework: no file {ref}")
        fw = load_file(ref)
    else:
        frameworks = bundled()
        if "@" in ref:
            fw = frameworks.get(ref)
        else:
            versions = [f for f in frameworks.values() if f.id == ref]
            fw = max(versions, key=lambda f: f.version) if versions else None
        if fw is None:
            known = ", ".join(f.ref for f in available(kind))
            raise KeyError(f"framework: unknown framework {ref!r}; known: {known}")
    if kind is not None and fw.kind != kind:
        raise TypeError(f"framework: {fw.ref} is {_a(fw.kind)} framework, {_a(kind)} framework is needed here")
    return fw
