"""The ``veil`` command: a thin layer over compile_policy and Plan.

Exit codes: 0 success, 1 a payload could not be processed (invalid JSON,
limits, tokens that would not open), 2 a policy or usage error, 130
interrupted (Ctrl-C). Errors print ``file:line:col: field: message`` on
stderr; payload content is never echoed in errors.

``apply`` and ``detect`` read files of unknown origin, so by default every
rule of the policy applies whatever its direction (``--direction any``);
``request`` or ``response`` narrows to the rules of that direction. When the
filters leave no rule for an input, a warning says so on stderr and the
exit code stays 0: the output is exactly the input, which is what the
policy asks for, but it is never a silent surprise.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import os
import re
import stat
import sys
import time
from collections import Counter
from importlib import resources
from typing import IO, TYPE_CHECKING, Any, Sequence

import orjson

from veil.errors import KeyMaterialError, PolicyError, RedactionError, VeilError
from veil.rules.actions.keys import KEY_ID_PATTERN, Keyring, parse_key
from veil.rules.actions.tokenize import TOKEN_PATTERN
from veil.rules.charsets import is_fast
from veil.rules.media import SNIFFED_MEDIA, body_kind, is_json_seq, media_type
from veil.rules.plan import Plan
from veil.rules.plan_types import Report, Route
from veil.rules.stream_redact import StreamRedactor
from veil.rules.streaming import sse_field
from veil.rules.warmup import DEFAULT_SECONDS as WARM_SECONDS
from veil.rules.warmup import MAX_SECONDS as WARM_MAX_SECONDS
from veil.settings import resolve_plan

if TYPE_CHECKING:
    from veil.server_settings import ServerSettings

EXIT_OK = 0
EXIT_PAYLOAD = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it

_TOKEN_SHAPE = re.compile(rf"(?={TOKEN_PATTERN})tok_[A-Z0-9_]+_(?P<kid>{KEY_ID_PATTERN})_")
"""A veil token's start, with its key id (an entity tag has no lower-case letter, a key id starts with one)."""

DIRECTIONS = ("any", "request", "response")
"""``--direction`` choices: ``any`` applies the rules of every direction (a file's origin is unknown)."""

_EXTENSIONS = {
    ".json": "application/json",
    ".ndjson": "application/x-ndjson",
    ".jsonl": "application/x-ndjson",
    ".log": "text/plain",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".form": "application/x-www-form-urlencoded",
    ".sse": "text/event-stream",
}

# An input that opens with an event-stream field line (after blank lines or a UTF-8 mark): what the
# adapters know from a stream's Content-Type, `apply` reads from its head. Read as plain text, a JSON
# document spread over ``data:`` lines would lose its field names' context.
_EVENT_STREAM_HEAD = re.compile(rb"(?:\xef\xbb\xbf)?[\r\n]*(?:data|event|id|retry)(?::|\r?\n)")


def _open_input(name: str) -> IO[bytes]:
    if name == "-":
        return sys.stdin.buffer
    return open(name, "rb")


def _guess_type(name: str, given: str | None, stream: IO[bytes] | None = None) -> str:
    """The -t type, else the file extension's, else ``text/event-stream`` when ``stream`` opens as one,
    else "" (the plan sniffs the body)."""
    if given:
        return given
    for ext, ctype in _EXTENSIONS.items():
        if name.lower().endswith(ext):
            return ctype
    peek = getattr(stream, "peek", None)
    if peek is not None and _EVENT_STREAM_HEAD.match(peek(256)[:256]):
        return "text/event-stream"
    return ""


def _warn_if_no_rule_applies(command: str, plan: Plan, route: Route, mtype: str) -> bool:
    """Say on stderr when the route's filters leave no rule of the plan for this input.

    True when it warned. The exit code does not change: passing such an input
    unchanged is what the policy says, but a user who expected redaction must see why.
    """
    if plan.view(route, mtype).rules:
        return False
    where = [f"direction {route.direction}"]
    where += [f"{name} {value}" for name, value in
              (("method", route.method), ("host", route.host), ("path", route.path)) if value]
    where.append(f"type {mtype or 'unknown'}")
    print(f"veil {command}: no rule of {plan.source} applies to this input ({', '.join(where)}): "
          "it passes unchanged", file=sys.stderr)
    return True


def _explain_left_out(plan: Plan, route: Route, mtype: str) -> None:
    """Name the rules whose ``match`` section excludes this input (--explain)."""
    applied = {id(rule) for rule in plan.view(route, mtype).rules}
    left_out = [rule.id for rule in plan.rules if id(rule) not in applied]
    if left_out:
        print(f"not applied (their match section excludes this input): {', '.join(left_out)}", file=sys.stderr)


def _matched_media_type(content_type: str, kind: str) -> str:
    """The media type the engine matched rules with: the declared one, unless the body
    was sniffed as something else (then the type of what it is)."""
    declared = media_type(content_type)[0]
    return declared if body_kind(declared) == kind else SNIFFED_MEDIA.get(kind, declared)


def _explain(report: Report, prefix: str = "") -> None:
    for f in report.findings:
        span = f" [{f.start}:{f.end}]" if f.start >= 0 else ""
        mode = "" if f.mode == "enforce" else " (detect only)"
        print(f"{prefix}{f.rule}: {f.type} at {f.location} {f.path}{span} -> {f.action}{mode}", file=sys.stderr)


# -- commands -----------------------------------------------------------------


def _count(n: int, noun: str) -> str:
    """``1 rule``, ``2 rules``, ``0 rules``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def cmd_check(args: argparse.Namespace) -> int:
    if args.policy and args.policy_file and args.policy != args.policy_file:
        print("veil check: give the policy once, as --policy or as the argument", file=sys.stderr)
        return EXIT_USAGE
    plan = resolve_plan(args.policy or args.policy_file or None)
    summary = plan.summary()
    # Count the detectors the rules scan with, not the catalog: a rule naming 3 read "18 detectors" (issue #16).
    in_use = {name for rule in plan.rules if rule.scan for name in rule.scan.detectors}
    rules = _count(len(summary["rules"]), "rule")
    print(f"{summary['source']}: OK, {rules}, {_count(len(in_use), 'detector')} in use "
          f"(of {len(summary['detectors'])} available)")
    for rule in summary["rules"]:
        targets = (re.sub(r"^scan:1 detectors$", "scan:1 detector", t) for t in rule["targets"])
        print(f"  {rule['id']} [{rule['mode']}, {rule['direction']}]: {', '.join(targets)}")
    limits = summary["limits"]
    print(f"  limits: body {limits['max_body_bytes']} B, depth {limits['max_depth']}, "
          f"string {limits['max_string_bytes']} B; on_error: {summary['on_error']}")
    return EXIT_OK


class _Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal (never in
    logs or pipes), at most ten times a second, erased when done."""

    def __init__(self, command: str, total: int) -> None:
        self.command, self.total = command, total
        self.shown = total > 0 and sys.stderr.isatty()
        self.last = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if not self.shown or now - self.last < 0.1:
            return
        self.last = now
        share = min(done / self.total, 1.0)
        bar = "#" * int(share * 30)
        sys.stderr.write(f"\rveil {self.command}: [{bar:<30}] {share:4.0%} of {self.total / 1e6:.1f} MB")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown and self.last:
            sys.stderr.write("\r\033[K")  # erase the bar: what follows on stderr starts clean
            sys.stderr.flush()


def _input_size(stream: IO[bytes]) -> int:
    """The size of a regular file, else 0 (a pipe's size is unknown until it ends)."""
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def _read_body(stream: IO[bytes], limit: int, progress: _Progress) -> tuple[bytes, int]:
    """Up to ``limit`` bytes, and the input's full size: read on to the end (discarding)
    when it is longer, so an error can give the real size."""
    chunks: list[bytes] = []
    size = 0
    while chunk := stream.read(1 << 20):
        size += len(chunk)
        if size <= limit:
            chunks.append(chunk)
        progress.update(size)
    return b"".join(chunks), size


def _with_body_limit(plan: Plan, max_body_bytes: int) -> Plan:
    """``plan`` with its body limit set to ``max_body_bytes`` (--max-body-bytes).

    A shallow copy: this process's own plan, before its first use, so no other
    reader sees it change; rules, detectors and keys are shared, not recompiled.
    """
    if max_body_bytes == plan.limits.max_body_bytes:
        return plan
    copied = copy.copy(plan)
    copied.limits = plan.limits.model_copy(update={"max_body_bytes": max_body_bytes})
    return copied


def _line_kind(ctype: str) -> str | None:
    """``ndjson`` or ``text`` when ``apply`` may redact the input line by line with the plan giving
    the same bytes as for the whole body, ``sse`` for an event stream (:func:`_apply_events`); None
    to read it whole. Whole: an RFC 7464 JSON text sequence (its records open with RS and may span
    lines: the adapters buffer it too, :func:`veil.http.bodies.stream_kind`), and text in a charset
    whose newline is no single ``\n`` byte or whose lines carry shift state (UTF-16, ISO-2022-JP:
    :func:`veil.rules.charsets.is_fast`)."""
    mtype, charset = media_type(ctype)
    kind = body_kind(mtype)
    if mtype == "text/event-stream":
        return "sse"  # one stream redactor over the lines: events span lines, text deltas span events
    if kind == "ndjson" and not is_json_seq(mtype):
        return kind
    if kind == "text" and is_fast(charset):
        return kind
    return None


def cmd_apply(args: argparse.Namespace) -> int:
    plan = resolve_plan(args.policy or None)
    if args.max_body_bytes is not None:
        plan = _with_body_limit(plan, args.max_body_bytes)
    limit = plan.limits.max_body_bytes
    route = Route(args.direction, args.method or "", args.host or "", args.path or "", "")
    out = sys.stdout.buffer
    with _open_input(args.file) as stream:
        ctype = _guess_type(args.file, args.content_type, stream)
        kind = _line_kind(ctype)
        if kind == "sse":
            return _apply_events(args, plan, route, media_type(ctype)[0], stream)
        if kind is not None:
            # Line by line: constant memory whatever the size of the file, and
            # each line flushed when reading a pipe (`tail -f app.log | veil apply -`).
            # An NDJSON line is read as JSON under the rules of the file's type, as the whole file's are:
            # either way the rules are those of the file's type.
            line_type = "application/json" if kind == "ndjson" else ctype
            matched = media_type(ctype)[0]
            rules_for = matched if kind == "ndjson" else ""
            _warn_if_no_rule_applies("apply", plan, route, matched)
            if args.explain:
                _explain_left_out(plan, route, matched)
            interactive = args.file == "-"
            progress = _Progress("apply", _input_size(stream))
            done = 0
            for number, line in enumerate(stream, 1):
                content = line.rstrip(b"\r\n")
                ending = line[len(content):]
                if len(content) > limit:
                    progress.close()
                    print(f"{args.file}:{number}: line of {len(content)} bytes is over the limit of {limit} bytes "
                          "(limits.max_body_bytes; raise it with --max-body-bytes)", file=sys.stderr)
                    return EXIT_PAYLOAD
                try:
                    result = plan.redact_body(content, line_type, route, rules_for=rules_for) if content.strip() else None
                except RedactionError as exc:
                    progress.close()
                    print(f"{args.file}:{number}: {exc}", file=sys.stderr)
                    return EXIT_PAYLOAD
                out.write((result.output if result is not None else content) + ending)
                if interactive:
                    out.flush()
                done += len(line)
                progress.update(done)
                if args.explain and result is not None:
                    _explain(result.report, f"line {number}: ")
            progress.close()
            out.flush()
            return EXIT_OK
        progress = _Progress("apply", _input_size(stream))
        body, size = _read_body(stream, limit, progress)
        progress.close()
    if size > limit:
        print(f"{args.file}: {size} bytes is over the body limit of {limit} bytes "
              f"(limits.max_body_bytes; raise it with --max-body-bytes {size})", file=sys.stderr)
        return EXIT_PAYLOAD
    try:
        result = plan.redact_body(body, ctype, route)
    except RedactionError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return EXIT_PAYLOAD
    out.write(result.output)
    if args.pretty_newline and not result.output.endswith(b"\n"):
        out.write(b"\n")
    out.flush()
    matched = _matched_media_type(ctype, result.kind)
    if result.kind != "binary":
        _warn_if_no_rule_applies("apply", plan, route, matched)
    if args.explain:
        _explain_left_out(plan, route, matched)
        _explain(result.report)
    return EXIT_OK


class _ExplainedEvents(StreamRedactor):
    """An event stream redacted as the adapters and :meth:`Plan.redact_body` redact one, printing
    (--explain) each finding as it is made, prefixed with its event's number and field. A field
    other than ``data``, ``event``, ``id`` and ``retry`` is named ``field`` (its name may be data),
    a comment ``comment``. Text deltas are scanned joined across events, where findings have no
    path: those are printed counted, with the event by which they settled."""

    def __init__(self, plan: Plan, route: Route) -> None:
        super().__init__(plan, route, "sse")
        self.event, self.field, self._in_event = 1, "data", False
        self._printed: Counter[tuple[str, str, str, str]] = Counter()

    def sse_line(self, line: bytes) -> bytes:
        out = super().sse_line(line)  # a blank line ends the event: its held data is redacted first
        blank = not line.strip(b"\r\n")
        if blank and self._in_event:
            self.event += 1
        self._in_event = not blank
        return out

    def redact_line(self, line: bytes) -> bytes:
        field = sse_field(line)
        name = field[0] if field is not None else b""
        self.field = name.decode() if name in (b"data", b"event", b"id", b"retry") else (
            "comment" if name == b":" else "field")
        try:
            return super().redact_line(line)
        finally:
            self.field = "data"  # a JSON document joined from data lines, or a delta event's other fields

    def found(self, report: Report) -> None:
        _explain(report, f"event {self.event}, {self.field}: ")
        self._printed.update(report.counts())
        super().found(report)

    def explain_deltas(self) -> None:
        """Print what the joined text deltas found since the last call (counted, no paths)."""
        for (type_, rule, action, mode), n in sorted((self.counts - self._printed).items()):
            detect = "" if mode == "enforce" else " (detect only)"
            print(f"text deltas, by event {self.event}: {rule}: {type_} x{n} -> {action}{detect}", file=sys.stderr)
        self._printed = Counter(self.counts)


def _apply_events(args: argparse.Namespace, plan: Plan, route: Route, mtype: str, stream: IO[bytes]) -> int:
    """``apply`` on an event stream (SSE): one stream redactor fed line by line, as an adapter
    redacts a streamed reply, so a JSON document spread over data lines and a value split over
    text deltas are read whole (each line was its own stream), in constant memory, and events
    are flushed as they settle when reading a pipe."""
    _warn_if_no_rule_applies("apply", plan, route, mtype)
    if args.explain:
        _explain_left_out(plan, route, mtype)
    explained = _ExplainedEvents(plan, route) if args.explain else None
    events = explained if explained is not None else StreamRedactor(plan, route, "sse")
    out, interactive = sys.stdout.buffer, args.file == "-"
    progress = _Progress("apply", _input_size(stream))
    done = 0
    try:
        for line in stream:
            out.write(events.feed(line))
            if interactive:
                out.flush()
            done += len(line)
            progress.update(done)
            if explained is not None:
                explained.explain_deltas()
        out.write(events.close())
        if explained is not None:
            explained.explain_deltas()
    except RedactionError as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return EXIT_PAYLOAD
    finally:
        progress.close()
    out.flush()
    return EXIT_OK


def cmd_detect(args: argparse.Namespace) -> int:
    plan = resolve_plan(args.policy or None)
    route = Route(args.direction)
    _warn_if_no_rule_applies("detect", plan, route, "text/plain")
    if not args.jsonl:
        return _detect_lines(plan, route)
    out = sys.stdout
    for number, raw in enumerate(sys.stdin.buffer, 1):
        if not raw.strip():
            continue
        try:
            item = orjson.loads(raw)
            text = item["text"]
            if not isinstance(text, str):
                raise TypeError
        except (orjson.JSONDecodeError, KeyError, TypeError):
            print(f"<stdin>:{number}: expected a JSON object with a string 'text'", file=sys.stderr)
            return EXIT_PAYLOAD
        findings = _findings_of(plan, text, route)
        out.write(json.dumps({"id": item.get("id"), "findings": findings}, ensure_ascii=False) + "\n")
    out.flush()
    return EXIT_OK


def _findings_of(plan: Plan, text: str, route: Route) -> list[dict[str, object]]:
    report = plan.redact_text(text, route).report
    return [{"type": f.type, "start": f.start, "end": f.end} for f in report.findings if f.start >= 0]


def _detect_lines(plan: Plan, route: Route) -> int:
    """Plain text on stdin: one ``{"line", "findings"}`` JSON line per input line, blank ones too,
    so output line n is about input line n. Offsets are str indices into the line without its ending."""
    out = sys.stdout
    for number, raw in enumerate(sys.stdin.buffer, 1):
        try:
            text = raw.rstrip(b"\r\n").decode("utf-8")
        except UnicodeDecodeError:
            print(f"<stdin>:{number}: not valid UTF-8", file=sys.stderr)
            return EXIT_PAYLOAD
        findings = _findings_of(plan, text, route) if text.strip() else []
        out.write(json.dumps({"line": number, "findings": findings}, ensure_ascii=False) + "\n")
        out.flush()  # one answer per line as it comes: `tail -f app.log | veil detect`
    return EXIT_OK


def cmd_keygen(args: argparse.Namespace) -> int:
    """Print a new random key in the text a ``keys:`` entry reads (unpadded base64url)."""
    from veil.rules.actions.keys import generate_key_text

    if args.bytes < 16:
        print(f"veil keygen: --bytes must be at least 16, got {args.bytes}", file=sys.stderr)
        return EXIT_USAGE
    print(generate_key_text(args.bytes))
    return EXIT_OK


def cmd_policy_show(args: argparse.Namespace) -> int:
    """Print a built-in profile's YAML (``builtin:NAME`` or ``NAME``), ready to copy and edit."""
    from veil.rules.profiles import PREFIX, profile_yaml

    name = args.name.removeprefix(PREFIX)
    sys.stdout.write(profile_yaml(name))  # PolicyError names the known profiles (exit 2)
    return EXIT_OK


def cmd_detokenize(args: argparse.Namespace) -> int:
    from veil.rules.restore import Restorer

    if args.service:
        from veil.vault.commands import detokenize_via_service

        with _open_input(args.file) as stream:
            raw = stream.read()
        ctype = "application/json" if _parses_as_json(raw) else _guess_type(args.file, None) or "text/plain"
        return detokenize_via_service(args, raw, ctype)
    if args.key_env or args.key_file:
        if args.key_env:
            text = os.environ.get(args.key_env)
            if not text:
                print(f"veil detokenize: environment variable {args.key_env} is not set", file=sys.stderr)
                return EXIT_USAGE
        else:
            with open(args.key_file, encoding="utf-8") as fh:
                text = fh.read()
        try:
            rings: tuple[Keyring, ...] = (Keyring(keys={args.key_id: parse_key(text)}, active=args.key_id),)
        except ValueError as exc:
            print(f"veil detokenize: {exc}", file=sys.stderr)
            return EXIT_USAGE
    else:
        plan = resolve_plan(args.policy or None)
        rings = plan.keyrings()
        if not rings:
            print("veil detokenize: the policy has no tokenize key; give --key-env or --key-file", file=sys.stderr)
            return EXIT_USAGE
    with _open_input(args.file) as stream:
        raw = stream.read()
    try:
        data = raw.decode("utf-8")
    except UnicodeDecodeError:
        print(f"veil detokenize: {args.file}: input is not valid UTF-8", file=sys.stderr)
        return EXIT_PAYLOAD
    # Inside JSON, restored values must be escaped or a quote would break the document.
    in_json = args.file.lower().endswith((".json", ".ndjson", ".jsonl")) or _parses_as_json(raw)
    try:
        # Every keyring of the policy: each tokenize key makes its own tokens.
        scopes = tuple(args.scope or [""])
        restored, count = Restorer(tuple((ring, scopes) for ring in rings)).restore_text(data, json_escape=in_json)
    except KeyMaterialError as exc:
        print(f"veil detokenize: {exc}", file=sys.stderr)
        return EXIT_PAYLOAD
    sys.stdout.write(restored)
    sys.stdout.flush()
    unopened = _unopened_tokens(restored, rings)
    print(f"veil detokenize: {_count(count, 'token')} restored", file=sys.stderr)
    if unopened:
        # Asked to open them with these keys and could not: not a success (issue #16).
        reasons = "; ".join(f"{n} {reason}" for reason, n in unopened.items())
        print(f"veil detokenize: {_count(sum(unopened.values()), 'token')} could not be opened: {reasons}",
              file=sys.stderr)
        return EXIT_PAYLOAD
    return EXIT_OK


def _unopened_tokens(text: str, rings: Sequence[Keyring]) -> Counter[str]:
    """Token-shaped strings left in ``text`` after restoring, counted by why they did not open."""
    ids = {key_id for ring in rings for key_id in ring.key_ids}
    reasons: Counter[str] = Counter()
    for match in _TOKEN_SHAPE.finditer(text):
        key_id = match["kid"]
        if key_id in ids:
            reasons["made with another key or scope, or altered"] += 1
        else:
            reasons[f"made with key id {key_id!r}, which no given key has"] += 1
    return reasons


def _parses_as_json(raw: bytes) -> bool:
    """True for a JSON document or JSON lines; a log line starting with '[' is not."""
    lines = [line for line in raw.splitlines() if line.strip()]
    try:
        for line in lines if len(lines) > 1 else [raw]:
            orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return bool(lines)


def cmd_demo(args: argparse.Namespace) -> int:
    if not args.payload:
        try:
            import mitmproxy  # noqa: F401
        except ImportError:
            print("veil demo: the proxy demo needs veil[proxy]; showing the payload demo instead\n", file=sys.stderr)
        else:
            from veil.demo import run

            return run()
    from veil import default_plan

    body = resources.files("veil").joinpath("data/example_payload.json").read_bytes()
    plan = default_plan()
    result = plan.redact_body(body, "application/json", Route("response"))
    before = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    after = json.dumps(json.loads(result.output), indent=2, ensure_ascii=False)
    print("=== before (bundled example payload) ===")
    print(before)
    print("\n=== after (built-in default policy) ===")
    print(after)
    print(f"\n{len(result.report.findings)} findings:")
    for f in result.report.findings:
        span = f" [{f.start}:{f.end}]" if f.start >= 0 else ""
        print(f"  {f.type:14} {f.path}{span}  ({f.rule} -> {f.action})")
    return EXIT_OK


def cmd_proxy(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from veil.server_settings import ProxySettings, describe

    try:
        from veil.proxy_addon.run import serve
    except ImportError as exc:
        print(f"veil proxy: {exc}", file=sys.stderr)
        return EXIT_USAGE
    given = {name: value for name in ProxySettings.model_fields if (value := getattr(args, name, None)) is not None}
    if "upstream" in given or "egress" in given:  # a mode on the command line replaces the environment's
        given.update(upstream=args.upstream, egress=bool(args.egress))
    try:
        settings = ProxySettings(**given)
    except ValidationError as exc:
        print(f"veil proxy: {describe(exc)}", file=sys.stderr)
        return EXIT_USAGE
    if settings.effective_policy:
        resolve_plan(settings.effective_policy)  # a policy error stops here with its file:line message (exit 2)
    return serve(settings)


def _flags_given(args: argparse.Namespace, settings: type[ServerSettings]) -> dict[str, Any]:
    """The ``settings`` given as flags (see :class:`_Given`): they win over their ``VEIL_*`` variables."""
    return {name: getattr(args, name) for name in getattr(args, "flags_given", ()) if name in settings.model_fields}


def cmd_extproc(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from veil.server_settings import ExtProcSettings, describe

    try:
        from veil.extproc.run import serve
        from veil.extproc.server import ExtProcConfig
    except ImportError as exc:
        print(f"veil extproc: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        settings = ExtProcSettings(**_flags_given(args, ExtProcSettings))
    except ValidationError as exc:
        print(f"veil extproc: {describe(exc)}", file=sys.stderr)
        return EXIT_USAGE
    config = ExtProcConfig(
        listen=settings.listen, policy=settings.policy, workers=args.workers, metrics_host=settings.metrics_host,
        metrics_port=settings.metrics_port, max_body_bytes=args.max_body_bytes or 0,
        policy_header=settings.policy_header, warm_seconds=settings.warm_seconds,
    )
    return serve(config, supervised=getattr(args, "worker_of_supervisor", False))


def cmd_envoy(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from veil.server_settings import EnvoySettings, describe

    try:
        from veil.extproc.sidecar import SidecarConfig, run_sidecar
    except ImportError as exc:
        print(f"veil envoy: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        settings = EnvoySettings(**_flags_given(args, EnvoySettings))
    except ValidationError as exc:
        print(f"veil envoy: {describe(exc)}", file=sys.stderr)
        return EXIT_USAGE
    config = SidecarConfig(
        upstream=settings.upstream, listen=settings.listen, policy=settings.policy, workers=args.workers,
        extproc_port=args.extproc_port, metrics_host=settings.metrics_host, metrics_port=settings.metrics_port,
        envoy_admin_port=args.envoy_admin_port, policy_header=settings.policy_header,
        warm_seconds=settings.warm_seconds,
    )
    return run_sidecar(config)


def cmd_discover(args: argparse.Namespace) -> int:
    """Report where samples carry personal data and which of it no rule covers (veil.discover)."""
    from veil.discover.command import run

    return run(args.policy, args.files, args.patch)


def cmd_audit(args: argparse.Namespace) -> int:
    """Count findings per 1,000 lines of each file by type (veil.discover.audit); exit 3 above the gate."""
    from veil.discover import audit

    plan = resolve_plan(args.policy or None)
    sizes = [os.path.getsize(name) if name != "-" and os.path.isfile(name) else 0 for name in args.files]
    progress = _Progress("audit", sum(sizes))
    total, per_file, before = audit.Tally(), list[tuple[str, audit.Tally]](), 0

    def update(done: int) -> None:
        progress.update(before + done)  # one bar over every file

    try:
        for name, size in zip(args.files, sizes):
            with _open_input(name) as stream:
                tally = audit.audit_stream(plan, name, stream, update)
            before += size
            per_file.append((name, tally))
            total.add(tally)
    finally:
        progress.close()
    audit.write_report(per_file, total, sys.stdout)
    for reason in total.unreadable:
        print(f"veil audit: {reason}", file=sys.stderr)
    if args.max_per_1000 is not None and total.per_1000() > args.max_per_1000:
        print(f"veil audit: {total.per_1000():.2f} findings per 1000 lines is above --max-per-1000 "
              f"{args.max_per_1000:g}", file=sys.stderr)
        return audit.EXIT_ABOVE_THRESHOLD
    return EXIT_PAYLOAD if total.unreadable else EXIT_OK


def cmd_test(args: argparse.Namespace) -> int:
    """Run a policy's own cases (veil.policytest); exit 1 naming each case that does not pass."""
    from veil.policytest.cases import parse_cases
    from veil.policytest.runner import run_cases

    plan = resolve_plan(args.policy_file)
    with open(args.cases, encoding="utf-8") as fh:
        src, cases = parse_cases(fh.read(), args.cases)  # PolicyError: file:line:col, exit 2
    failures = run_cases(plan, src, cases)
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    failed = {f.case for f in failures}
    print(f"veil test: {len(cases) - len(failed)} of {_count(len(cases), 'case')} passed ({plan.source})")
    return EXIT_PAYLOAD if failures else EXIT_OK


def cmd_loadtest(argv: Sequence[str]) -> int:
    """Forward ``veil loadtest ARGS`` to ``python -m loadtests ARGS``.

    ``loadtests`` is a folder of a veil checkout, not part of the installed
    package, so it is imported from the current directory.
    """
    cwd = os.getcwd()
    if not os.path.isfile(os.path.join(cwd, "loadtests", "runner.py")):
        print("veil loadtest: run it from a veil checkout (the loadtests/ folder), or use python -m loadtests",
              file=sys.stderr)
        return EXIT_USAGE
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        runner = importlib.import_module("loadtests.runner")
    except ImportError as exc:  # locust, matplotlib, ... missing
        print(f"veil loadtest: {exc} (install the load-test dependencies: pip install -e '.[loadtest]')",
              file=sys.stderr)
        return EXIT_USAGE
    return int(runner.main(list(argv), prog="veil loadtest"))


# -- entry point ------------------------------------------------------------------


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not 0 <= value <= WARM_MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"must be between 0 and {WARM_MAX_SECONDS:g} seconds, got {text}")
    return value


def _env_help(text: str, default: object, dest: str) -> str:
    from veil.server_settings import env_var

    return f"{text} (default: {default}; env: {env_var(dest)})"


class _Given(argparse.Action):
    """Store a flag's value and note the flag as given, so that it wins over its ``VEIL_*`` variable.

    The parsed arguments keep argparse's defaults, which readers of them rely on; only a
    given flag may override the environment (:func:`_flags_given`). ``nargs=0`` with
    ``const=True`` is a switch, like ``store_true``.
    """

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[Any] | None, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, self.const if self.nargs == 0 else values)
        namespace.flags_given = {*getattr(namespace, "flags_given", ()), self.dest}


def _warm_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--warm-seconds", type=_seconds, default=WARM_SECONDS, metavar="S", action=_Given,
                   help=_env_help("before a policy serves (at start-up and on each reload), run synthetic traffic "
                   "through it for up to S seconds, so that its first requests do not pay for compiling and for RE2 "
                   "building its automata; 0: off", f"{WARM_SECONDS:g}", "warm_seconds"))


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of bytes, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from veil import __version__

    parser = argparse.ArgumentParser(prog="veil", description="Redact personal and secret data from API payloads.")
    parser.add_argument("--version", action="version", version=f"veil {__version__}",
                        help="print veil's version and exit")
    sub = parser.add_subparsers(dest="command", required=True)

    policy_help = ("policy YAML file, or builtin:NAME for a built-in profile "
                   "(default: $VEIL_POLICY, else builtin:strict)")
    p = sub.add_parser("check", help="validate and compile a policy, print a summary")
    p.add_argument("policy_file", nargs="?", metavar="policy", help=f"the same as --policy; {policy_help}")
    p.add_argument("--policy", "-p", help=policy_help)
    p.set_defaults(func=cmd_check)

    direction_help = ("which rules apply: any (rules of every direction), request or response "
                      "(only rules for that direction and for both) (default: any)")
    p = sub.add_parser("apply", help="redact a payload to stdout")
    p.add_argument("--policy", "-p", help=policy_help)
    p.add_argument("--content-type", "-t", help="media type of the input (default: from the file extension, else sniffed)")
    p.add_argument("--direction", "-d", choices=DIRECTIONS, default="any", help=direction_help)
    p.add_argument("--method", help="HTTP method, for rules whose match names methods "
                   "(default: none, so those rules do not apply)")
    p.add_argument("--path", help="HTTP path, for rules whose match names paths (default: /)")
    p.add_argument("--host", help="HTTP host, for rules whose match names hosts "
                   "(default: none, so those rules do not apply)")
    p.add_argument("--explain", action="store_true",
                   help="report on stderr which rule touched which path, and the rules the filters left out "
                   "(never the values) (default: off)")
    p.add_argument("--newline", dest="pretty_newline", action="store_true",
                   help="end single-document output with a newline (default: off)")
    p.add_argument("--max-body-bytes", type=_positive_int, metavar="N",
                   help="largest document (or line, for text and NDJSON) to redact, in bytes "
                   "(default: the policy's limits.max_body_bytes, itself 10485760 by default)")
    p.add_argument("file", nargs="?", default="-", help="input file, or - for stdin (default: -)")
    p.set_defaults(func=cmd_apply)

    p = sub.add_parser("detect", help="report findings (type, start, end) for each line of text on stdin")
    p.add_argument("--policy", "-p", help=policy_help)
    p.add_argument("--jsonl", action="store_true", help="read {\"id\",\"text\"} JSON lines, write {\"id\",\"findings\"} lines "
                   "(default: off: read plain text, write one {\"line\",\"findings\"} line per input line)")
    p.add_argument("--direction", "-d", choices=DIRECTIONS, default="any", help=direction_help)
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("detokenize", help="replace veil tokens in a payload with the original values")
    p.add_argument("--policy", "-p", help="policy whose tokenize keys to try, every one of them "
                   "(default: $VEIL_POLICY, unless --key-env or --key-file is given)")
    p.add_argument("--key-env", help="environment variable holding the key (hex or base64) (default: the policy's keys)")
    p.add_argument("--key-file", help="file holding the key (hex or base64) (default: the policy's keys)")
    p.add_argument("--key-id", default="k1", help="id of that key (default: k1)")
    p.add_argument("--scope", action="append", help="token scope (repeatable; default: the empty scope)")
    p.add_argument("--service", help="URL of a veil detokenize service: it restores the vault tokens this "
                   "client may see (default: none: restore vaultless tokens locally)")
    p.add_argument("--client-key-env", help="with --service: environment variable holding the client's API key")
    p.add_argument("file", nargs="?", default="-", help="input file, or - for stdin (default: -)")
    p.set_defaults(func=cmd_detokenize)
    from veil.vault.commands import add_commands as add_vault_commands

    add_vault_commands(sub)  # veil vault forget|rotate, veil serve detokenize

    from veil.server_settings import DEFAULT_ADMIN_PORT, ProxySettings, env_var

    proxy_fields = ProxySettings.model_fields

    p = sub.add_parser(
        "proxy", help="run veil as a reverse (--upstream) or forward (--egress) proxy",
        description="Rewrite HTTP traffic through mitmproxy with a veil policy (needs veil[proxy]). "
        "The policy file is reloaded when it changes. Every option can come from the environment "
        f"variable named after it instead ({env_var('metrics_port')} for --metrics-port), so a container "
        "needs no arguments; an option given on the command line wins over its variable.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--upstream", metavar="URL", help=_env_help(
        "reverse proxy in front of this URL, e.g. http://127.0.0.1:8000; one of --upstream and --egress is "
        "required", "none", "upstream"))
    mode.add_argument("--egress", action="store_true", default=None, help=_env_help(
        "explicit HTTP(S) forward proxy for outbound calls (clients set HTTPS_PROXY and trust the CA in "
        "--confdir); its policy defaults to builtin:egress, which keeps the clients' credentials to their "
        "vendors; the variable takes 1 or true", "off", "egress"))
    p.add_argument("--listen", metavar="HOST:PORT", help=_env_help(
        "where the proxy listens", proxy_fields["listen"].default, "listen"))
    p.add_argument("--policy", "-p", help=_env_help(
        "policy YAML file, or builtin:NAME for a built-in profile",
        "builtin:strict with --upstream, builtin:egress with --egress", "policy"))
    p.add_argument("--on-error", choices=["block", "passthrough"], help=_env_help(
        "override the policy's on_error", "the policy's, itself block by default", "on_error"))
    p.add_argument("--metrics-port", type=int, metavar="N", help=_env_help(
        "port for /healthz, /readyz and /metrics; 0: off", DEFAULT_ADMIN_PORT, "metrics_port"))
    p.add_argument("--metrics-host", help=_env_help(
        "address for those endpoints", proxy_fields["metrics_host"].default, "metrics_host"))
    p.add_argument("--confdir", help=_env_help("mitmproxy's directory for its CA", "~/.mitmproxy", "confdir"))
    p.add_argument("--records", metavar="FILE", help=_env_help(
        "write the findings of sampled messages (the policy's sample:) to FILE as NDJSON for veil discover; "
        "-: stdout; {pid}: the process id", "none", "records"))
    p.add_argument("--policy-header", action="store_true", default=None, help=_env_help(
        "add veil-policy: sha256:<16 hex> (the policy's digest) to every response; the variable takes 1 or "
        "true", "off", "policy_header"))
    p.add_argument("--warm-seconds", type=float, metavar="S", help=_env_help(
        "before a policy serves (at start-up and on each reload), run synthetic traffic through it for up to S "
        "seconds, so that its first requests do not pay for compiling and for RE2 building its automata; 0: off",
        WARM_SECONDS, "warm_seconds"))
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help=_env_help(
        "any mitmproxy option (repeatable; in the variable, separated by spaces)", "none", "set"))
    p.set_defaults(func=cmd_proxy)

    # extproc and envoy read veil proxy's variables for the options they share with it, and only those.
    shared_env = ("Each option veil proxy also takes can come from the same environment variable instead "
                  f"({env_var('metrics_port')} for --metrics-port, {env_var('policy')} for --policy); an option "
                  "given on the command line wins over its variable.")
    server_policy = "policy YAML file, or builtin:NAME for a built-in profile"
    policy_header_help = ("responses carry veil-policy: sha256:<16 hex>, the policy's digest; the variable takes 1 "
                          "or true")
    p = sub.add_parser(
        "extproc", help="run veil as an Envoy external processor (ext_proc gRPC server)",
        description="Serve Envoy's ext_proc protocol (envoy.filters.http.ext_proc) with a veil policy, for "
        "Envoy-based gateways (needs veil[envoy]). The policy file is reloaded when it changes. "
        f"See examples/gateways/ for the gateway side. {shared_env}",
    )
    p.add_argument("--listen", default="127.0.0.1:50051", metavar="HOST:PORT", action=_Given, help=_env_help(
        "gRPC address; with --workers N, ports PORT to PORT+N-1", "127.0.0.1:50051", "listen"))
    p.add_argument("--policy", "-p", action=_Given, help=_env_help(server_policy, "builtin:strict", "policy"))
    p.add_argument("--workers", type=_positive_int, default=1, metavar="N",
                   help="serving processes, one port each, listed as endpoints of the gateway's ext_proc "
                   "cluster (default: 1)")
    p.add_argument("--max-body-bytes", type=_positive_int, metavar="N",
                   help="largest body to redact (default: the policy's limits.max_body_bytes)")
    p.add_argument("--metrics-port", type=int, default=DEFAULT_ADMIN_PORT, metavar="N", action=_Given, help=_env_help(
        "port for /healthz, /readyz and /metrics; 0: off", DEFAULT_ADMIN_PORT, "metrics_port"))
    p.add_argument("--metrics-host", default="127.0.0.1", action=_Given,
                   help=_env_help("address for those endpoints", "127.0.0.1", "metrics_host"))
    p.add_argument("--policy-header", nargs=0, const=True, default=False, action=_Given,
                   help=_env_help(policy_header_help, "off", "policy_header"))
    _warm_option(p)
    # Set by the --workers supervisor on the processes it starts (the supervisor serves the admin port).
    p.add_argument("--worker-of-supervisor", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_extproc)

    p = sub.add_parser(
        "envoy", help="run a real Envoy with veil as its ext_proc filter in front of an upstream (sidecar)",
        description="Start Envoy (from veil[envoy]) with a generated configuration and veil extproc, "
        "supervise both and stop both on SIGINT/SIGTERM: the fast alternative to veil proxy --upstream. "
        "Envoy's buffer limits follow the policy's limits.max_body_bytes; if veil's processor is "
        f"unreachable, Envoy answers 500 (never forwards unredacted). {shared_env}",
    )
    # Not required=True: VEIL_UPSTREAM may give it (EnvoySettings says so when neither does).
    p.add_argument("--upstream", metavar="URL", action=_Given, help=_env_help(
        "the app, e.g. http://127.0.0.1:8000; required", "none", "upstream"))
    p.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT", action=_Given,
                   help=_env_help("where Envoy listens", "127.0.0.1:8080", "listen"))
    p.add_argument("--policy", "-p", action=_Given, help=_env_help(server_policy, "builtin:strict", "policy"))
    p.add_argument("--workers", type=_positive_int, default=1, metavar="N",
                   help="ext_proc processes (default: 1)")
    p.add_argument("--extproc-port", type=int, default=0, metavar="N",
                   help="first loopback port of the ext_proc workers (default: 0, free ports)")
    p.add_argument("--metrics-port", type=int, default=DEFAULT_ADMIN_PORT, metavar="N", action=_Given,
                   help=_env_help("veil's /healthz, /readyz and /metrics; 0: off", DEFAULT_ADMIN_PORT, "metrics_port"))
    p.add_argument("--metrics-host", default="127.0.0.1", action=_Given,
                   help=_env_help("address for those endpoints", "127.0.0.1", "metrics_host"))
    p.add_argument("--envoy-admin-port", type=int, default=0, metavar="N",
                   help="Envoy's own admin interface on 127.0.0.1 (default: 0, off)")
    p.add_argument("--policy-header", nargs=0, const=True, default=False, action=_Given,
                   help=_env_help(policy_header_help, "off", "policy_header"))
    _warm_option(p)
    p.set_defaults(func=cmd_envoy)

    p = sub.add_parser("demo", help="run veil proxy (default policy) in front of a demo upstream and show what passes")
    p.add_argument("--payload", action="store_true",
                   help="instead, redact the bundled example payload in process and show before/after (default: off)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("keygen", help="print a new random key for a policy's keys: section",
                       description="Print a new random key (unpadded base64url) to store in the secret "
                       "a keys: entry names (env: or file:).")
    p.add_argument("--bytes", type=int, default=64, metavar="N",
                   help="key size in bytes: 64 for tokenize (AES-SIV-256), 16 or more for hash (default: 64)")
    p.set_defaults(func=cmd_keygen)

    p = sub.add_parser("policy", help="inspect built-in policies")
    policy_sub = p.add_subparsers(dest="policy_command", required=True)
    p = policy_sub.add_parser("show", help="print a built-in profile's YAML",
                              description="Print a built-in profile's YAML, to read what it protects and "
                              "keeps or to start a policy from it.")
    p.add_argument("name", nargs="?", default="builtin:strict",
                   help="builtin:NAME or NAME: strict, app, egress or logs (default: builtin:strict)")
    p.set_defaults(func=cmd_policy_show)

    p = sub.add_parser(
        "discover", help="find personal data in traffic samples that no rule covers, propose rules",
        description="Read HAR files, NDJSON bodies or detect-mode finding records and report, per route "
        "template and value-free JSON path, the personal data found, how often, and whether a rule of the "
        "policy covers it. With --patch, write the policy plus proposed rules for what is uncovered.",
    )
    p.add_argument("--policy", "-p", help="policy YAML file, or builtin:NAME, to check coverage against "
                   "(default: $VEIL_POLICY, else none: nothing is covered)")
    p.add_argument("--patch", metavar="OUT.yaml", help="write the policy with proposed rules appended "
                   "(default: none, table only)")
    p.add_argument("files", nargs="+", metavar="FILE", help="HAR, NDJSON or finding-record files")
    p.set_defaults(func=cmd_discover)

    p = sub.add_parser(
        "audit", help="count personal data in log or NDJSON files per 1,000 lines, by type (a CI gate)",
        description="Scan files line by line without changing them (JSON lines as JSON, others as text) and "
        "report findings per 1,000 lines by type, never the values. Exit codes: 0 at or under "
        "--max-per-1000, 3 above it, 1 when a line could not be scanned, 2 for a policy or usage error.",
    )
    p.add_argument("--policy", "-p", help=policy_help)
    p.add_argument("--max-per-1000", type=float, metavar="N",
                   help="exit 3 when all files together have more than N findings per 1,000 lines "
                   "(default: none, report only)")
    p.add_argument("files", nargs="+", metavar="FILE", help="log or NDJSON files, or - for stdin")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser(
        "test", help="run a policy's own test cases (input, route, expected output or findings)",
        description="Run each case of CASES.yaml through the policy and compare the output and findings "
        "with what the case expects. Exit codes: 0 all pass, 1 a case failed (each failure names the case "
        "and its file:line, with a diff), 2 a policy or cases file error. See README, 'Testing a policy'.",
    )
    p.add_argument("policy_file", metavar="POLICY", help="policy YAML file, or builtin:NAME")
    p.add_argument("cases", metavar="CASES.yaml", help="the cases file")
    p.set_defaults(func=cmd_test)

    # Listed for --help only: main() hands everything after "loadtest" to the runner untouched.
    sub.add_parser("loadtest", add_help=False,
                   help="Locust load tests with latency budgets (from a veil checkout; same as python -m loadtests)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["loadtest"]:
        return cmd_loadtest(args_list[1:])
    parser = build_parser()
    args = parser.parse_args(args_list)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:  # Ctrl-C: the user's choice, not a crash
        print(f"veil {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except PolicyError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # before OSError, its base: a reader that stopped early is not an error
        return EXIT_OK
    except (OSError, VeilError) as exc:
        print(f"veil {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, OSError) else EXIT_PAYLOAD


if __name__ == "__main__":
    sys.exit(main())
