"""mkdocs hook: the pages generated from the code, so they cannot drift from it.

- ``<!-- actc:cli -->`` (reference/cli.md) becomes every ``actc`` command with its usage and
  every option, read from the argparse parsers ``actc`` itself runs (``actc.cli._parser``);
- ``<!-- actc:manifest-schema -->`` (reference/manifest.md) becomes each unit kind's manifest
  keys with their types and bounds, read from the pydantic models ``actc verify`` checks
  manifests with (``actc.schema``), and the JSON Schema they export;
- ``<!-- actc:adc-cost-parameters -->`` (reference/adc-cost.md) becomes the cost model's
  parameters with their sources (``actc.adc.cost.PARAMETERS`` and ``PRESETS``).

``commands()`` is also what tests/test_docs.py uses to check that every command is documented.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority

CLI_MARKER = "<!-- actc:cli -->"
SCHEMA_MARKER = "<!-- actc:manifest-schema -->"
KINDS = ("activation", "mac", "adc")


class _Formatter(argparse.HelpFormatter):
    """A fixed width, so the page is the same on every machine (argparse reads $COLUMNS)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=96, max_help_position=32)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _help_of(parser: argparse.ArgumentParser) -> dict[str, str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {a.dest: a.help or "" for a in action._choices_actions}
    return {}


def commands() -> list[tuple[tuple[str, ...], argparse.ArgumentParser, str]]:
    """Every leaf command as (words, its parser, its one-line help), in the parsers' order.

    Each command's parser is built as ``actc`` builds it for that command line (the
    generated method, target and crossbar flags exist only for the command that takes them).
    """
    from actc.cli import _parser

    out = []

    def walk(words: tuple[str, ...], help_line: str) -> None:
        parser = _parser(words[0] if words else None, list(words))
        node = parser
        for w in words:
            node = _subcommands(node)[w]
        subs = _subcommands(node)
        if not subs:
            out.append((words, node, help_line))
            return
        helps = _help_of(node)
        for name in subs:
            walk(words + (name,), helps.get(name, ""))

    walk((), "")
    return out


def anchor(words: tuple[str, ...]) -> str:
    return "actc-" + "-".join(words)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _flags(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    names = ", ".join(action.option_strings)
    if action.nargs == 0:
        return f"`{names}`"
    metavar = action.metavar or (
        "{" + ",".join(map(str, action.choices)) + "}" if action.choices else action.dest.upper())
    return f"`{names} {metavar}`"


def _meaning(action: argparse.Action) -> str:
    text = (action.help or "").replace("%%", "%")
    extra = []
    if action.choices and action.option_strings and action.metavar:
        extra.append("one of " + ", ".join(f"`{c}`" for c in action.choices))
    if action.required and action.option_strings:
        extra.append("required")
    if (action.option_strings and action.nargs != 0 and action.default not in (None, [])
            and action.default is not argparse.SUPPRESS
            and "default" not in text):
        extra.append(f"default `{action.default}`")
    if extra:
        text = f"{text} ({'; '.join(extra)})" if text else "; ".join(extra)
    return _escape(" ".join(text.split()))


def _render_command(words: tuple[str, ...], parser: argparse.ArgumentParser,
                    help_line: str) -> list[str]:
    parser.formatter_class = _Formatter
    usage = parser.format_usage().strip()
    lines = [f"## actc {' '.join(words)} {{#{anchor(words)}}}", ""]
    about = parser.description or help_line
    if about:
        lines += [_escape(" ".join(about.split())), ""]
    lines += ["```", usage, "```", ""]
    for group in parser._action_groups:
        actions = [a for a in group._group_actions
                   if a.help is not argparse.SUPPRESS and not isinstance(a, argparse._HelpAction)]
        if not actions:
            continue
        raw = group.title or ""
        title = {"positional arguments": "Arguments", "options": "Options"}.get(
            raw, raw[:1].upper() + raw[1:])
        lines += [f"**{title}**", "", "| argument | meaning |", "| --- | --- |"]
        lines += [f"| {_flags(a)} | {_meaning(a)} |" for a in actions]
        lines.append("")
    if parser.epilog:
        lines += [_escape(" ".join(parser.epilog.split())), ""]
    return lines


def cli_reference() -> str:
    cmds = commands()
    lines = ["| command | what it does |", "| --- | --- |"]
    lines += [f"| [`actc {' '.join(w)}`](#{anchor(w)}) | {_escape(h)} |" for w, _, h in cmds]
    lines.append("")
    for words, parser, help_line in cmds:
        lines += _render_command(words, parser, help_line)
    return "\n".join(lines)


# --- the manifest schema ---------------------------------------------------------------------
def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " or ".join(json.dumps(v) for v in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(dict.fromkeys(_type(s) for s in schema[key]))
    kind = schema.get("type")
    if kind is None:
        return "any JSON"
    if kind == "array":
        inner = _type(schema["items"]) if "items" in schema else "any JSON"
        if "prefixItems" in schema:
            inner = ", ".join(_type(s) for s in schema["prefixItems"])
            return f"[{inner}]"
        most = f", at most {schema['maxItems']:,}" if "maxItems" in schema else ""
        return f"list of {inner}{most}"
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return f"object of {_type(extra)}"
        return "object"
    bounds = []
    for key, word in (("minimum", ">="), ("exclusiveMinimum", ">"), ("maximum", "<="),
                      ("exclusiveMaximum", "<"), ("minLength", "length >="),
                      ("maxLength", "length <=")):
        if key in schema:
            bounds.append(f"{word} {schema[key]}")
    if "pattern" in schema:
        bounds.append(f"matching `{schema['pattern']}`")
    return kind + (f" ({', '.join(bounds)})" if bounds else "")


def manifest_schema() -> str:
    from actc.schema import _manifest_model

    lines = []
    for kind in KINDS:
        schema = _manifest_model(kind).model_json_schema(by_alias=True)
        required = set(schema.get("required", []))
        lines += [f"### Kind `{kind}`", "", "| key | required | type |", "| --- | --- | --- |"]
        for key, sub in schema["properties"].items():
            lines.append(f"| `{key}` | {'yes' if key in required else 'no'} | "
                         f"{_escape(_type(sub))} |")
        lines += ["", f'??? note "JSON Schema of a `{kind}` manifest (exported by pydantic)"',
                  "", "    ```json"]
        lines += ["    " + row for row in json.dumps(schema, indent=2).splitlines()]
        lines += ["    ```", ""]
    return "\n".join(lines)


# --- the ADC cost model's parameters ---------------------------------------------------------
COST_MARKER = "<!-- actc:adc-cost-parameters -->"


def cost_parameters() -> str:
    from actc.adc.cost import PARAMETERS, PRESETS

    lines = ["| parameter | value | unit | meaning | source |", "| --- | --- | --- | --- | --- |"]
    for p in PARAMETERS:
        fitted = " (**fitted**)" if p.calibrated else ""
        lines.append(f"| `{p.name}` | {p.value:.6g} | {p.unit} | {_escape(p.meaning)} | "
                     f"{_escape(p.source)}{fitted} |")
    lines.append("")
    for name, preset in PRESETS.items():
        values = ", ".join(f"`{k}` = {v:.4g}" for k, v in preset.values.items())
        lines += [f"**Preset `{name}`** ({_escape(preset.description)}): {values}.", ""]
    return "\n".join(lines)


@event_priority(100)  # before mkdocstrings reads sys.path
def on_config(config: Any) -> Any:
    """mkdocstrings (griffe) looks for ``actc`` on ``sys.path``, whose first entry, when mkdocs
    runs as the ``mkdocs`` script, is the script's directory, which also holds the ``actc``
    console script: griffe would take that file for the package. Such entries are dropped, so
    the package is found where Python imports it from (an editable install's ``compiler/``
    included)."""
    sys.path[:] = [p for p in sys.path if not (Path(p or ".") / "actc").is_file()]
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """mkdocs calls this for every page: each marker becomes what the code says."""
    for marker, render in ((CLI_MARKER, cli_reference), (SCHEMA_MARKER, manifest_schema),
                           (COST_MARKER, cost_parameters)):
        if marker in markdown:
            markdown = markdown.replace(marker, render())
    return markdown
