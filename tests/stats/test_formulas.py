"""Formulas: parsing with positions, every error, printing, dependencies and scalar values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ictgov.stats.formulas import (
    FUNCTIONS,
    MAX_DEPTH,
    BinOp,
    Call,
    FormulaError,
    Name,
    Neg,
    Num,
    dependency_order,
    evaluate_scalar,
    name_positions,
    names,
    parse,
    to_source,
    walk,
)

a, b, c = Name("a"), Name("b"), Name("c")


def error_of(text: str) -> FormulaError:
    with pytest.raises(FormulaError) as caught:
        parse(text)
    return caught.value


# -- parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("a + b * c", BinOp("+", a, BinOp("*", b, c))),
        ("a * b + c", BinOp("+", BinOp("*", a, b), c)),
        ("(a + b) * c", BinOp("*", BinOp("+", a, b), c)),
        ("a - b - c", BinOp("-", BinOp("-", a, b), c)),
        ("a / b / c", BinOp("/", BinOp("/", a, b), c)),
        ("a - b + c", BinOp("+", BinOp("-", a, b), c)),
        ("a / b * c", BinOp("*", BinOp("/", a, b), c)),
        ("-a * b", BinOp("*", Neg(a), b)),
        ("a * -b", BinOp("*", a, Neg(b))),
        ("--a", Neg(Neg(a))),
        ("-(a + b)", Neg(BinOp("+", a, b))),
        ("a - -b", BinOp("-", a, Neg(b))),
        ("((a))", a),
        ("min(a, b + c)", Call("min", (a, BinOp("+", b, c)))),
        ("growth(prev_year(a))", Call("growth", (Call("prev_year", (a,)),))),
        ("abs (a)", Call("abs", (a,))),
    ],
)
def test_precedence_and_associativity(text, tree):
    assert parse(text) == tree


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12.0), ("1.5", 1.5), ("1e3", 1000.0), ("1E-2", 0.01), ("1_000", 1000.0),
     ("2.5e+2", 250.0), ("0", 0.0), ("1_000.000_5", 1000.0005)],
)  # fmt: skip
def test_numbers(text, value):
    assert parse(text) == Num(value)


def test_names_are_ascii_codes_and_may_shadow_functions():
    assert parse("_x1 + Revenue_2") == BinOp("+", Name("_x1"), Name("Revenue_2"))
    assert parse("share") == Name("share")


def test_whitespace_of_any_kind_separates_tokens():
    assert parse("\ta\n+\u00a0b  ") == BinOp("+", a, b)


def test_positions_point_at_each_node():
    tree = parse("x + min(-y, 2) * z")
    assert tree.pos == 2  # the "+"
    assert tree.left.pos == 0
    product = tree.right
    assert (product.pos, product.left.pos, product.right.pos) == (15, 4, 17)
    neg, two = product.left.args
    assert (neg.pos, neg.operand.pos, two.pos) == (8, 9, 12)


def test_positions_do_not_count_in_equality():
    assert parse("a+b") == parse("  a   +   b")
    assert Name("a", 0) == Name("a", 7)
    assert hash(Name("a", 0)) == hash(Name("a", 7))


# -- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("", "empty formula", 0),
        ("   ", "empty formula", 0),
        ("a $ b", "unexpected character '$'", 2),
        ("a − b", "unexpected character '−' (MINUS SIGN)", 2),
        ("a + b)", "unexpected ')' with no matching '('", 5),
        ("(a + b))", "unexpected ')' with no matching '('", 7),
        ("(a + b", "'(' is never closed", 0),
        ("x * (a + (b)", "'(' is never closed", 4),
        ("min(a, b", "'(' is never closed", 3),
        ("a +", "unexpected end of formula", 3),
        ("a + b *  ", "unexpected end of formula", 7),
        ("-", "unexpected end of formula", 1),
        ("a b", "unexpected name 'b'", 2),
        ("a 2", "unexpected number '2'", 2),
        ("2(a)", "unexpected '('", 1),
        ("()", "unexpected ')'", 1),
        ("a * * b", "unexpected '*'", 4),
        ("+a", "unexpected '+'", 0),
        ("min(a,)", "unexpected ')'", 6),
        ("(a, b)", "unexpected ','", 2),
        ("foo(x)", "unknown function 'foo'", 0),
        ("a + Growth(x)", "unknown function 'Growth'", 4),
        ("min(a)", "min() takes 2 arguments, got 1", 0),
        ("1 + abs(a, b)", "abs() takes 1 argument, got 2", 4),
        ("growth()", "unexpected ')'", 7),
        ("1.2.3", "malformed number '1.2.3'", 0),
        ("a + 1.", "malformed number '1.'", 4),
        ("1e", "malformed number '1e'", 0),
        ("1__000", "malformed number '1__000'", 0),
        ("1_", "malformed number '1_'", 0),
        ("12abc", "malformed number '12abc'", 0),
        (".5", "malformed number '.5'", 0),
        ("a + 1e999", "number '1e999' is too large", 4),
    ],
)
def test_every_error_has_its_message_and_exact_position(text, message, position):
    error = error_of(text)
    assert (error.message, error.position, error.text) == (message, position, text)


def test_error_str_shows_the_formula_and_a_caret():
    assert str(error_of("(a + b) * c)")) == (
        "unexpected ')' with no matching '(' at position 11\n    (a + b) * c)\n               ^"
    )


def test_error_hints_follow_the_position():
    assert str(error_of("a +")).splitlines()[0] == (
        "unexpected end of formula at position 3; expected a number, a name or '('"
    )
    assert error_of("prev_yaer(x)").hint == "did you mean 'prev_year'?"
    assert "functions are prev_year, growth" in error_of("zzz(x)").hint
    assert "1e3" in error_of("1..2").hint


def test_error_caret_on_a_later_line_and_after_tabs():
    text = "a +\n\tb * $"
    assert str(error_of(text)).splitlines()[1:] == ["    \tb * $", "    \t    ^"]


def test_formula_error_is_a_value_error():
    assert issubclass(FormulaError, ValueError)
    assert str(FormulaError("cycle: a -> a")) == "cycle: a -> a"


def test_deep_nesting_is_an_error_not_a_crash():
    deep = "(" * 400 + "a" + ")" * 400
    assert error_of(deep).message == f"formula is nested more than {MAX_DEPTH} levels deep"
    long_sum = " + ".join(["a"] * (MAX_DEPTH + 1))
    assert error_of(long_sum).position == 0
    assert isinstance(parse(" + ".join(["a"] * MAX_DEPTH)), BinOp)
    assert parse("(" * (MAX_DEPTH - 1) + "a" + ")" * (MAX_DEPTH - 1)) == a
    assert error_of("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH).position == MAX_DEPTH


@given(st.text() | st.text(alphabet="ab12_.eE+-*/(), \t"))
def test_any_text_parses_or_raises_formula_error(text):
    try:
        parse(text)
    except FormulaError as error:
        assert 0 <= error.position <= len(text)


# -- printing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("a+b*c", "a + b * c"),
        ("(a+b)*c", "(a + b) * c"),
        ("a-(b-c)", "a - (b - c)"),
        ("a-(b+c)", "a - (b + c)"),
        ("(a-b)+c", "a - b + c"),
        ("a/(b*c)", "a / (b * c)"),
        ("a+(b+c)", "a + (b + c)"),
        ("-(-a)", "-(-a)"),
        ("--a", "-(-a)"),
        ("-(a*b)", "-(a * b)"),
        ("(-a)*b", "-a * b"),
        ("min( a ,b )", "min(a, b)"),
        ("1_000 + 1.50 + 1e3 + 2.5e-7", "1000 + 1.5 + 1000 + 2.5e-07"),
        ("1e20", "1e+20"),
    ],
)
def test_to_source_is_canonical(text, source):
    assert to_source(parse(text)) == source


def test_to_source_refuses_other_objects():
    with pytest.raises(TypeError):
        to_source("a")  # type: ignore[arg-type]


NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
NUMBERS = st.floats(min_value=0, allow_nan=False, allow_infinity=False) | st.integers(0, 10**12)
LEAVES = st.builds(Num, NUMBERS) | st.builds(Name, NAMES)


def _extend(children: st.SearchStrategy) -> st.SearchStrategy:
    calls = st.sampled_from(sorted(FUNCTIONS)).flatmap(
        lambda f: st.builds(Call, st.just(f), st.tuples(*[children] * FUNCTIONS[f].arity))
    )
    binops = st.builds(BinOp, st.sampled_from("+-*/"), children, children)
    return st.builds(Neg, children) | binops | calls


TREES = st.recursive(LEAVES, _extend, max_leaves=25)


@given(TREES)
def test_parse_of_to_source_round_trips(tree):
    assert parse(to_source(tree)) == tree


@given(TREES)
def test_parsed_positions_point_at_the_source(tree):
    source = to_source(tree)
    for node in walk(parse(source)):
        match node:
            case Name(name=name):
                assert source[node.pos :].startswith(name)
            case Call(func=func):
                assert source[node.pos :].startswith(func + "(")
            case Neg():
                assert source[node.pos] == "-"
            case BinOp(op=op):
                assert source[node.pos] == op
            case Num():
                assert source[node.pos].isdigit()


# -- names ------------------------------------------------------------------------------


def test_names_and_positions():
    tree = parse("x + growth(y) / x - max(z, 1)")
    assert names(tree) == {"x", "y", "z"}
    assert name_positions(tree) == [("x", 0), ("y", 11), ("x", 16), ("z", 24)]
    assert names(parse("abs(2)")) == set()


# -- dependency order -------------------------------------------------------------------


def test_dependency_order_on_a_diamond():
    formulas = {"top": "left + right", "right": "base * 2", "left": "base / e2", "base": "e1"}
    assert dependency_order(formulas, {"e1", "e2"}) == ["base", "left", "right", "top"]


def test_dependency_order_without_dependencies_is_alphabetical():
    assert dependency_order({"b": "x", "a": "x", "c": "1"}, {"x"}) == ["a", "b", "c"]
    assert dependency_order({}, {"x"}) == []


def test_cycle_of_one():
    with pytest.raises(FormulaError) as caught:
        dependency_order({"a": "a + x"}, {"x"})
    assert str(caught.value) == "cycle: a -> a"
    assert caught.value.position is None and caught.value.indicator == "a"


def test_cycle_through_prev_year_is_still_a_cycle():
    with pytest.raises(FormulaError, match=r"^cycle: stock -> stock$"):
        dependency_order({"stock": "prev_year(stock) + x"}, {"x"})


def test_cycle_of_three_reads_in_the_direction_of_use():
    formulas = {"b": "c + 1", "c": "a * x", "a": "b / 2", "d": "a"}
    with pytest.raises(FormulaError) as caught:
        dependency_order(formulas, {"x"})
    assert caught.value.message == "cycle: a -> b -> c -> a"


def test_unknown_name_names_the_indicator_the_name_and_its_position():
    with pytest.raises(FormulaError) as caught:
        dependency_order({"ok": "x", "bad": "x + ok * revenu"}, {"x", "revenue"})
    error = caught.value
    assert error.message == "indicator 'bad': unknown name 'revenu'"
    assert (error.position, error.text, error.indicator) == (9, "x + ok * revenu", "bad")
    assert error.hint == "did you mean 'revenue'?"


def test_formula_that_does_not_parse_names_its_indicator():
    with pytest.raises(FormulaError) as caught:
        dependency_order({"good": "x", "broken": "x + (x"}, {"x"})
    error = caught.value
    assert error.message == "indicator 'broken': '(' is never closed"
    assert (error.position, error.text, error.indicator) == (4, "x + (x", "broken")
    assert "x + (x\n        ^" in str(error)


def test_code_that_is_both_element_and_indicator_is_refused():
    with pytest.raises(FormulaError, match="'x' is also a data-element code"):
        dependency_order({"x": "y * 2"}, {"x", "y"})


# -- scalar evaluation ------------------------------------------------------------------

DATA = {
    ("revenue", 0): 120.0,
    ("revenue", 1): 100.0,
    ("revenue", 2): 80.0,
    ("users", 0): 4.0,
    ("zero", 0): 0.0,
    ("zero", 1): 0.0,
}


def value(text: str, data: dict | None = None) -> float | None:
    table = DATA if data is None else data
    return evaluate_scalar(parse(text), lambda name, shift: table.get((name, shift)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("10 - 4 - 3", 3.0),
        ("12 / 2 / 3", 2.0),
        ("-2 * 3", -6.0),
        ("revenue / users", 30.0),
        ("prev_year(revenue)", 100.0),
        ("prev_year(prev_year(revenue))", 80.0),
        ("revenue - prev_year(revenue)", 20.0),
        ("abs(-revenue)", 120.0),
        ("min(revenue, users)", 4.0),
        ("max(revenue, users)", 120.0),
    ],
)
def test_evaluate(text, expected):
    assert value(text) == pytest.approx(expected)


def test_growth_against_the_same_period_a_year_before():
    assert value("growth(revenue)") == pytest.approx(0.2)
    assert value("growth(prev_year(revenue))") == pytest.approx(0.25)
    assert value("growth(revenue) * 100") == pytest.approx(20.0)


@pytest.mark.parametrize(
    "text",
    [
        "users / zero",
        "missing + 1",
        "-missing",
        "abs(missing)",
        "min(revenue, missing)",
        "growth(users)",  # no value a year before
        "growth(zero)",  # a year before was zero
        "prev_year(users)",
        "1e300 * 1e300",  # overflows to infinity
    ],
)
def test_missing_values_and_division_by_zero_give_none(text):
    assert value(text) is None


def test_nan_from_the_data_counts_as_missing():
    assert value("x + 1", {("x", 0): math.nan}) is None


@pytest.mark.parametrize("func", ["sum_children", "share"])
def test_functions_over_areas_need_the_engine(func):
    text = f"1 + {func}(revenue)"
    with pytest.raises(FormulaError, match="needs the engine") as caught:
        value(text)
    assert caught.value.position == 4


def test_registry_marks_what_the_scalar_evaluator_cannot_do():
    assert {f for f, spec in FUNCTIONS.items() if spec.uses_areas} == {"sum_children", "share"}
    assert {f: spec.arity for f, spec in FUNCTIONS.items()} == {
        "prev_year": 1, "growth": 1, "sum_children": 1, "share": 1, "abs": 1, "min": 2, "max": 2,
    }  # fmt: skip
