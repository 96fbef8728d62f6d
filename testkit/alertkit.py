"""Grafana's alert rules evaluated as Grafana runs them, against a real influxd: each rule's InfluxQL, then its
own reduce, math and threshold steps as written in the provisioned YAML. Grafana's server cannot run here; its
expression steps are evaluated by the small interpreter below (last value per series; math joined by tags; the
threshold; no data where the rule says no data alerts)."""

from __future__ import annotations

import ast
import operator
from typing import Any

from dokiem.grafana.influxql import DATASOURCE_UID
from testkit.influx import Influx

Labels = frozenset[tuple[str, str]]


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
              ast.Lt: operator.lt, ast.Gt: operator.gt, ast.LtE: operator.le, ast.GtE: operator.ge}  # fmt: skip


def _math(expression: str, values: dict[str, float]) -> float:
    """Grafana's math expression over numbers: + - * / comparisons && (a division by 0 gives NaN)."""

    def run(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return run(node.body)
        if isinstance(node, ast.BoolOp):
            return float(all(run(v) for v in node.values))
        if isinstance(node, ast.Compare):
            (op,), (right,) = node.ops, node.comparators
            return float(_OPERATORS[type(op)](run(node.left), run(right)))
        if isinstance(node, ast.BinOp):
            left, right = run(node.left), run(node.right)
            if isinstance(node.op, ast.Div) and right == 0:
                return float("nan")
            return float(_OPERATORS[type(node.op)](left, right))
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.Constant):
            return float(node.value)
        raise AssertionError(f"unexpected {ast.dump(node)} in {expression}")

    text = expression.replace("&&", " and ")
    for name in sorted(values, key=len, reverse=True):
        text = text.replace(f"${name}", name)
    return run(ast.parse(text, mode="eval"))


def firing(rule: dict[str, Any], server: Influx, db: str) -> set[Labels]:
    """The series (by tags) for which the rule's condition holds now."""
    steps: dict[str, dict[Labels, float]] = {}
    for step in rule["data"]:
        model, ref = step["model"], step["refId"]
        if step["datasourceUid"] == DATASOURCE_UID:
            since = step["relativeTimeRange"]["from"]
            query = model["query"].replace("$timeFilter", f"time >= now() - {since}s")
            steps[ref] = {
                frozenset(s.get("tags", {}).items()): [v for v in s["values"] if v[1] is not None][-1][1]
                for s in server.query(query, db=db)
            }
        elif model["type"] == "reduce":
            assert model["reducer"] == "last"
            steps[ref] = steps[model["expression"]]
        elif model["type"] == "math":
            names = [n for n in steps if f"${n}" in model["expression"]]
            keys = set.intersection(*(set(steps[n]) for n in names))
            steps[ref] = {k: _math(model["expression"], {n: steps[n][k] for n in names}) for k in keys}
        else:
            (condition,) = model["conditions"]
            assert model["type"] == "threshold" and condition["evaluator"]["type"] == "gt"
            bound = condition["evaluator"]["params"][0]
            steps[ref] = {k: float(v > bound) for k, v in steps[model["expression"]].items()}
    if not steps[rule["condition"]] and rule["noDataState"] == "Alerting":
        return {frozenset()}  # nothing to judge is itself the alarm (a collector that writes nothing)
    return {labels for labels, value in steps[rule["condition"]].items() if value}
