"""Which fields of a streamed event carry text that goes on in the next event, and what ends it.

The defaults cover the shapes LLM APIs stream (each from the vendor's API reference and SDK
event types):

- OpenAI chat completions: ``choices[].delta.content`` (also ``refusal``, ``reasoning_content``
  and ``tool_calls[].function.arguments``), legacy completions ``choices[].text``; a choice's
  ``finish_reason`` and ``data: [DONE]`` end it.
- OpenAI Responses: ``response.output_text.delta`` and the other ``*.delta`` events carry a
  top-level ``delta`` string; the matching ``*.done`` event ends it.
- Anthropic messages: ``content_block_delta`` with ``delta.text`` (``thinking``,
  ``partial_json``); ``content_block_stop`` and ``message_stop`` end it.
- Gemini ``candidates[].content.parts[].text`` (``finishReason``), Ollama ``message.content`` and
  ``response`` (``done: true``), Cohere ``delta.message.content.text`` (``content-end``).

A channel is one such field of one choice or content block: list items are told apart by
their ``index`` member when they have one (OpenAI sends choice 1 at list position 0), and
events by the top-level members named in ``discriminators`` (Anthropic's block ``index``, the
Responses API's ``item_id``, ``output_index``, ``content_index``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from veil.rules.stream_channels import Path

ITEMS = "[]"
"""A path step standing for every item of a list."""

DEFAULT_PATHS = (
    "choices[].delta.content", "choices[].delta.refusal", "choices[].delta.reasoning_content",
    "choices[].delta.tool_calls[].function.arguments", "choices[].text",
    "delta", "delta.text", "delta.thinking", "delta.partial_json", "delta.content",
    "delta.message.content.text",
    "candidates[].content.parts[].text",
    "message.content", "message.thinking", "response",
)
DEFAULT_END_TYPES = frozenset({
    "content_block_stop", "message_delta", "message_stop", "content-end", "message-end",
    "response.completed", "response.failed", "response.incomplete", "error",
})
DEFAULT_END_FLAGS = ("choices[].finish_reason", "candidates[].finishReason", "done")
DEFAULT_DISCRIMINATORS = ("type", "index", "output_index", "content_index", "summary_index", "item_id")

Steps = tuple[str, ...]
ChannelKey = tuple[Any, ...]


def parse_path(text: str) -> Steps:
    """``"choices[].delta.content"`` as steps: ``("choices", "[]", "delta", "content")``."""
    steps: list[str] = []
    for part in text.split("."):
        name = part.rstrip("[]")
        lists = (len(part) - len(name)) // 2
        if not name or "[" in name or "]" in name or part != name + ITEMS * lists:
            raise ValueError(f"delta field path {text!r}: step {part!r} (expected names joined by '.', '[]' after a list)")
        steps += [name] + [ITEMS] * lists
    return tuple(steps)


@dataclass(frozen=True)
class DeltaFields:
    """Where streamed text sits in an event (``paths``, dotted, ``[]`` for every list item) and
    which events end it: a top-level ``type`` in ``end_types`` or ending in ``.done``, or a
    value other than null/false at one of ``end_flags``. An event with no delta field and no end
    signal (Anthropic's ``ping``) leaves the text open. Empty ``paths``: nothing is a channel
    and every line is redacted on its own."""

    paths: tuple[str, ...] = DEFAULT_PATHS
    end_types: frozenset[str] = DEFAULT_END_TYPES
    end_flags: tuple[str, ...] = DEFAULT_END_FLAGS
    discriminators: tuple[str, ...] = DEFAULT_DISCRIMINATORS
    _paths: tuple[Steps, ...] = field(init=False, repr=False, compare=False)
    _flags: tuple[Steps, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_paths", tuple(parse_path(p) for p in self.paths))
        object.__setattr__(self, "_flags", tuple(parse_path(p) for p in self.end_flags))

    def texts(self, doc: dict[str, Any]) -> list[tuple[ChannelKey, Path, str]]:
        """``(channel, path, text)`` for every delta field of one event."""
        tag = tuple(doc.get(name) for name in self.discriminators if isinstance(doc.get(name), (str, int)))
        found: list[tuple[ChannelKey, Path, str]] = []
        for number, steps in enumerate(self._paths):
            if steps[0] not in doc:
                continue  # most paths: not this vendor's shape
            for path, ids, value in _walk(doc, steps):
                if isinstance(value, str):
                    found.append(((number, tag, ids), path, value))
        return found

    def ends(self, doc: dict[str, Any]) -> bool:
        """Whether this event ends the text streamed so far."""
        kind = doc.get("type")
        if isinstance(kind, str) and (kind in self.end_types or kind.endswith(".done")):
            return True
        return any(
            value not in (None, False) for steps in self._flags if steps[0] in doc for _, _, value in _walk(doc, steps)
        )


def _walk(doc: Any, steps: Steps) -> list[tuple[Path, tuple[Any, ...], Any]]:
    """``(path, item ids, value)`` for every value at ``steps``; an item's id is its ``index``
    member if it has one, else its position."""
    found: list[tuple[Path, tuple[Any, ...], Any]] = [((), (), doc)]
    for step in steps:
        nxt: list[tuple[Path, tuple[Any, ...], Any]] = []
        for path, ids, node in found:
            if step == ITEMS:
                if isinstance(node, list):
                    for i, item in enumerate(node):
                        own = item.get("index") if isinstance(item, dict) else None
                        nxt.append(((*path, i), (*ids, own if isinstance(own, int) else i), item))
            elif isinstance(node, dict) and step in node:
                nxt.append(((*path, step), ids, node[step]))
        found = nxt
        if not found:
            break
    return found
