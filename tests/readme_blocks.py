"""README.md read as a sequence of fenced code blocks, each with its section and the prose before it.

Used by tests/test_readme.py to run the README as a reader would, top to bottom. Nothing here
knows any particular command: blocks are told apart by their fence's language and the heading
they sit under, and output a block promises is read from its comments (see ``expected_output``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w+-]*)\s*$")
_HEADING = re.compile(r"^(?P<level>#{1,3}) (?P<title>.+)$")
_FILE_NAMED = re.compile(r"`(?P<name>[\w.-]+\.(?:ya?ml|py|json|log))`")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is (``section`` is its ``##`` heading, ``veil`` for the top;
    ``subsection`` its ``###`` heading or ""), the language of its fence (``""`` when none), its
    text dedented to the fence, and the last paragraph of prose before it."""

    section: str
    subsection: str
    line: int
    lang: str
    text: str
    intro: str

    @property
    def where(self) -> str:
        return f"README.md:{self.line} ({self.section})"

    @property
    def named_file(self) -> str | None:
        """The file the block is: named in its first line (``# settings.py``), else the last file the
        prose before it names (``Write a policy, `policy.yaml`:``); None when neither names one."""
        first = self.text.splitlines()[0] if self.text.strip() else ""
        if re.fullmatch(r"# [\w.-]+\.py", first):
            return first[2:]
        names = _FILE_NAMED.findall(self.intro)
        return str(names[-1]) if names else None


def read_blocks(path: Path) -> list[Block]:
    """Every fenced block of the Markdown file at ``path``, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    section = subsection = ""
    paragraph: list[str] = []  # the prose lines since the last blank line or block
    intro = ""  # the last paragraph of prose
    i = 0
    while i < len(lines):
        line = lines[i]
        heading = _HEADING.match(line)
        fence = _FENCE.match(line)
        if heading and len(heading["level"]) <= 2:
            section, subsection, paragraph, intro = heading["title"], "", [], ""
        elif heading:
            subsection, paragraph, intro = heading["title"], [], ""
        elif fence:
            indent = len(fence["indent"])
            end = i + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            body = "\n".join(text[indent:] for text in lines[i + 1 : end]) + "\n"
            blocks.append(Block(section, subsection, i + 1, fence["lang"], body, " ".join(paragraph) or intro))
            paragraph, intro = [], ""
            i = end
        elif line.strip():
            paragraph.append(line.strip())
            intro = " ".join(paragraph)
        else:
            paragraph = []
        i += 1
    return blocks


@dataclass(frozen=True)
class Step:
    """One command of a shell block (continuation lines joined) or a whole Python block, with the
    output the README shows for it."""

    code: str
    line: int
    stdout: tuple[str, ...]
    stderr: tuple[str, ...]


def shell_steps(block: Block) -> list[Step]:
    """The commands of a shell block, each with the output written under it as comments.

    A run of comment lines starting in column 0 right after a command is what it prints:
    ``# text`` is a stdout line; ``# stderr: text`` starts the stderr lines, whose later comment
    lines are stripped of their indentation. Comment lines after a blank line, or at the start,
    are prose.
    """
    steps: list[Step] = []
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            i += 1
            continue
        start = i
        while lines[i].rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
        code = "\n".join(lines[start : i + 1])
        i += 1
        shown: list[str] = []
        while i < len(lines) and lines[i].startswith("#"):
            shown.append(lines[i])
            i += 1
        stdout, stderr = expected_output(shown)
        steps.append(Step(code, block.line + 1 + start, stdout, stderr))
    return steps


def expected_output(comments: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The (stdout, stderr) lines that ``comments`` (``# ...`` lines under a command) promise."""
    stdout: list[str] = []
    stderr: list[str] = []
    for comment in comments:
        text = comment[2:] if comment.startswith("# ") else comment[1:]
        if text.startswith("stderr: "):
            stderr.append(text[len("stderr: ") :].strip())
        elif stderr:
            stderr.append(text.strip())
        else:
            stdout.append(text)
    return tuple(stdout), tuple(stderr)


def python_output(block: Block) -> tuple[str, ...]:
    """The output lines a Python block shows: comment lines in column 0 that follow a line of code
    (a comment at the top, or after a blank line, is prose), in order."""
    shown: list[str] = []
    after_code = False
    for line in block.text.splitlines():
        if line.startswith("#") and after_code:
            shown.append(line[2:] if line.startswith("# ") else line[1:])
            continue
        after_code = bool(line.strip()) and not line.startswith("#")
    return tuple(shown)


@dataclass(frozen=True)
class TryIt:
    """A ``Try it:`` paragraph: server commands (alternatives, each one starts the same app), then
    the client commands to run against it."""

    section: str
    line: int
    servers: tuple[str, ...]
    clients: tuple[str, ...]

    @property
    def where(self) -> str:
        return f"README.md:{self.line} ({self.section})"


def read_try_its(path: Path) -> list[TryIt]:
    """Every paragraph of ``path`` that starts with ``Try it:``: its inline commands before the
    word ``then`` start servers, those after it are clients."""
    found: list[TryIt] = []
    section = ""
    lines = path.read_text(encoding="utf-8").splitlines()
    in_fence = False
    for number, line in enumerate(lines, start=1):
        if _FENCE.match(line) or (in_fence and line.strip() == "```"):
            in_fence = not in_fence
            continue
        heading = None if in_fence else _HEADING.match(line)
        if heading and len(heading["level"]) <= 2:
            section = heading["title"]
        if in_fence or not line.startswith("Try it:"):
            continue
        paragraph = []
        for text in lines[number - 1 :]:
            if not text.strip():
                break
            paragraph.append(text)
        before, _, after = " ".join(paragraph).partition(" then ")
        found.append(TryIt(section, number, tuple(re.findall(r"`([^`]+)`", before)),
                           tuple(re.findall(r"`([^`]+)`", after))))
    return found
