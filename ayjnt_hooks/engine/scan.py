"""Agent discovery with ayjnt 0.5.9's exact rules (reference §1).

Pure: reads bytes through a :class:`~ayjnt_hooks.engine.snapshot.Snapshot`, never executes
project code. Regexes follow JavaScript semantics: ``\\w`` is ASCII-only, ``\\s`` is JS's
whitespace set, ``.`` stops at any JS line terminator and multiline ``^`` also matches after
``\\r``, U+2028 and U+2029.
"""
from __future__ import annotations

import re

from ..errors import AyjntError
from ..records import Record
from .collation import UnprovenOrder, sort_key
from .snapshot import MAX_FILE_BYTES, Snapshot, too_large

RESERVED_BINDINGS = ("BROWSER", "LOADER", "AI", "EMAIL", "ASSETS")
HOST_TOOLS_OPTIONAL_MARKER = b"@ayjnt-optional-on-deploy"

_S = "[\t\n\x0b\x0c\r \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
_LINE_START = "(?<![^\n\r\u2028\u2029])"  # JS multiline ^
_DOT = "[^\n\r\u2028\u2029]"
_IDENT = "[A-Za-z_$][A-Za-z0-9_$]*"
# The patterns are compiled on first use (re.compile's own cache keeps them): compiling a class
# of non-Latin-1 characters such as _S costs 0.3 ms each time it appears, 12 ms for all of them,
# and a command compiles only those it runs.
CLASS_PATTERN = (
    f"{_LINE_START}[ \t]*export{_S}+default{_S}+class{_S}+({_IDENT}){_S}+extends{_S}+({_IDENT})")
# ayjnt writes `agentId\s*(?::\s*string)?\s*=`; the blanks before the "=" are taken inside the
# optional group instead (the same strings match, with the same groups): two `\s*` side by
# side made a long run of blanks not followed by "=" cost quadratic time.
AGENT_ID_PATTERN = (
    f"{_LINE_START}[ \t]*export{_S}+const{_S}+agentId{_S}*(?::{_S}*string{_S}*)?={_S}*"
    f"([\"'`])((?:(?!\\1){_DOT})+)\\1")
_CAMEL = "([a-z0-9])([A-Z])"
_BUN_MEMBER = f"(?<![A-Za-z0-9_$.])Bun{_S}*\\.{_S}*({_IDENT})"
_BUN_BARE = f"(?<![A-Za-z0-9_$.])Bun{_S}*\\."
_BUN_SPECIFIER = "[\"']bun:[a-z]+[\"']"
_LINE_TERMINATORS = "\n\r\u2028\u2029"
WORKFLOW_BASES = ("AgentWorkflow", "WorkflowEntrypoint")


def decode(data: bytes) -> str:
    """Bun's ``Blob.text()``: WHATWG UTF-8 decode (BOM dropped, invalid bytes → U+FFFD)."""
    return data.decode("utf-8-sig", errors="replace")


# One token of ayjnt's state machine that is not plain code: a comment (to blank) or a string
# (kept as it is; a backslash takes the next character along; ' and " also end at a newline,
# and an unterminated one runs to the end of the file).
_TOKEN = r"""
    (?P<comment> //[^\n]* | /\*[^*]*(?:\*+[^*/][^*]*)*(?:\*+/|\*+\Z|\Z) )
  | '[^'\\\n]*(?:\\[\s\S]?[^'\\\n]*)*['\n]?
  | "[^"\\\n]*(?:\\[\s\S]?[^"\\\n]*)*["\n]?
  | `[^`\\]*(?:\\[\s\S]?[^`\\]*)*`?
"""


def _blank_comment(m: re.Match[str]) -> str:
    if m.lastgroup != "comment":
        return m.group()
    text = m.group()
    if "\n" not in text:
        return " " * len(text)
    return "\n".join(" " * len(part) for part in text.split("\n"))


def strip_comments(source: str) -> str:
    """ayjnt's ``stripComments``: blank comments, keep strings; same length and newlines.

    ayjnt's state machine as one regex over its tokens, so a large file is scanned in C (a
    character-at-a-time loop took 71 s for 50 MB)."""
    return re.compile(_TOKEN, re.VERBOSE).sub(_blank_comment, source)


class ParsedSource(Record):
    class_name: str
    base_class: str
    agent_id: str | None


def parse_agent_source(source: str) -> ParsedSource | None:
    stripped = strip_comments(source)
    m = re.compile(CLASS_PATTERN).search(stripped)
    if m is None:
        return None
    id_match = re.compile(AGENT_ID_PATTERN).search(stripped)
    return ParsedSource(m.group(1), m.group(2), id_match.group(2) if id_match else None)


def is_route_group(segment: str) -> bool:
    """``/\\([^\\n\\r\\u2028\\u2029]+\\)/`` matches the whole segment (tested without a regex:
    that class alone costs 0.3 ms to compile)."""
    return len(segment) > 2 and segment[0] == "(" and segment[-1] == ")" and not any(
        c in segment[1:-1] for c in _LINE_TERMINATORS)


def _route_segments(folder_path: str) -> list[str]:
    return [p for p in folder_path.replace("\\", "/").split("/") if p and not is_route_group(p)]


def folder_to_route(folder_path: str) -> str:
    return "/" + "/".join(_route_segments(folder_path))


def default_agent_id(folder_path: str) -> str:
    return "_".join(_route_segments(folder_path)) or "_root"


def class_name_to_binding(class_name: str) -> str:
    return re.compile(_CAMEL).sub(r"\1_\2", class_name).upper()


def class_name_to_kebab(class_name: str) -> str:
    return re.compile(_CAMEL).sub(r"\1-\2", class_name).lower()


def detect_host_only_globals(source: str) -> str | None:
    code = strip_comments(source)
    m = re.compile(_BUN_MEMBER).search(code)
    if m:
        return f"Bun.{m.group(1)}"
    if re.compile(_BUN_BARE).search(code):
        return "Bun"
    spec = re.compile(_BUN_SPECIFIER).search(code)
    return spec.group().replace('"', "").replace("'", "") if spec else None


class ToolsFile(Record):
    path: str  # project-relative
    runtime: str  # "worker" | "host"
    route_path: str
    optional_on_deploy: bool


class Agent(Record):
    agent_id: str
    class_name: str
    base_class: str
    folder_path: str
    route_path: str
    binding: str
    path: str  # project-relative, e.g. agents/chat/agent.ts
    source_file: str  # as ayjnt prints it
    tools: tuple[ToolsFile, ...] = ()


class Workflow(Record):
    class_name: str
    base_class: str
    binding: str
    name: str
    path: str
    source_file: str


class Manifest(Record):
    agents: tuple[Agent, ...]
    workflows: tuple[Workflow, ...] = ()

    def host_tool_files(self) -> list[ToolsFile]:
        return [t for a in self.agents for t in a.tools if t.runtime == "host"]


_UNDECODABLE = "[\udc80-\udcff]"  # bytes that were not UTF-8 (surrogateescape)


def printable_path(path: str) -> str:
    """``path`` with each byte that was not UTF-8 shown as ``\\xNN``, so it can be printed."""
    return re.compile(_UNDECODABLE).sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", path)


def _glob(snapshot: Snapshot, folder: str, name: str) -> list[str]:
    """Bun's ``new Glob("**/<name>").scan({cwd: folder})``: no dot segments, exact name."""
    hits = []
    for path in snapshot.files_under(folder):
        segments = path[len(folder) + 1:].split("/")
        if segments[-1] == name and not any(s.startswith(".") for s in segments):
            if not path.isascii() and re.compile(_UNDECODABLE).search(path):
                # Bun decodes the name with U+FFFD for the bad bytes, then cannot open that
                # path (ENOENT), so `ayjnt build` fails on this file.
                shown = printable_path(snapshot.display(path))
                raise AyjntError(
                    f"{shown}: the folder name is not valid UTF-8. ayjnt (Bun) reads file names "
                    f"as UTF-8, so it cannot open this file and `ayjnt build` fails here. Rename "
                    f"the folder to a UTF-8 name.", path=printable_path(path))
            hits.append(path)
    return hits


def _read_text(snapshot: Snapshot, path: str) -> str:
    data = snapshot.read(path)
    if data is None:  # listed a moment ago; vanished (racing editor)
        raise AyjntError(f"{snapshot.display(path)}: file disappeared while scanning. Retry.",
                         path=snapshot.display(path))
    if len(data) > MAX_FILE_BYTES:  # (a git blob: the working tree's reader stops earlier)
        raise too_large(snapshot.display(path), len(data))
    return decode(data)


def _tools_for(snapshot: Snapshot, folder: str, route_path: str) -> tuple[ToolsFile, ...]:
    found: list[ToolsFile] = []
    worker_path = f"{folder}/tools.ts"
    if snapshot.exists(worker_path):
        offender = detect_host_only_globals(_read_text(snapshot, worker_path))
        if offender:
            raise AyjntError(
                f"{snapshot.display(worker_path)}: uses `{offender}`, which does not exist in "
                f"workerd. tools.ts runs inside the Workers runtime alongside your agent. Rename "
                f"the file to tools.host.ts to run these functions on the Bun host instead (note: "
                f"host tools cannot be deployed to Cloudflare).", path=worker_path)
        found.append(ToolsFile(worker_path, "worker", route_path, False))
    host_path = f"{folder}/tools.host.ts"
    if snapshot.exists(host_path):
        raw = snapshot.read(host_path) or b""
        found.append(ToolsFile(host_path, "host", route_path, HOST_TOOLS_OPTIONAL_MARKER in raw))
    return tuple(found)


def _reserved_error(binding: str, class_name: str, where: str) -> AyjntError:
    return AyjntError(
        f'Class "{class_name}" ({where}) derives the binding name "{binding}", which ayjnt '
        f"reserves for a framework binding ({', '.join(RESERVED_BINDINGS)} are reserved). "
        f"Rename the class.")


def is_project(snapshot: Snapshot) -> bool:
    """An ayjnt project has agents/, workflows/ or a lockfile. ayjnt itself scans any folder
    (an empty one has no agents); a gate that said "0 agents, nothing pending" about the wrong
    folder would be a false pass."""
    return any(snapshot.exists(p) for p in ("agents", "workflows", ".ayjnt/migrations.json"))


def not_a_project(shown: str) -> AyjntError:
    return AyjntError(f"{shown} is not an ayjnt project: it has no agents/ folder and no "
                      ".ayjnt/migrations.json, so there is nothing to check.",
                      path=shown, hint="run it in the project folder, or pass --cwd <the "
                                       "folder that holds agents/>")


def scan(snapshot: Snapshot, *, with_tools: bool = True) -> Manifest:
    """ayjnt's ``scan(root)``: agents in manifest order, then workflows; raises AyjntError."""
    if not snapshot.exists("agents"):
        # ayjnt returns here: the workflows are listed but their bindings are never checked.
        return Manifest((), tuple(_scan_workflows(snapshot)))
    agents: list[Agent] = []
    for path in _glob(snapshot, "agents", "agent.ts"):
        shown = snapshot.display(path)
        parsed = parse_agent_source(_read_text(snapshot, path))
        if parsed is None:
            raise AyjntError(
                f"{shown}: could not find a default-exported class. Expected:\n"
                f"  export default class <Name> extends Agent<...> {{ ... }}", path=path)
        folder_path = path[len("agents/"):-len("/agent.ts")] if "/" in path[7:] else "."
        folder_path = folder_path.replace("\\", "/")
        if folder_path == ".":
            raise AyjntError(
                f"{shown}: agent.ts must live in a subfolder of agents/ — move it to "
                f"agents/<route>/agent.ts so the folder name gives the agent its URL.", path=path)
        route_path = folder_to_route(folder_path)
        if route_path == "/":
            raise AyjntError(
                f'{shown}: every segment of "{folder_path}" is a route group (parens are stripped '
                f'from the URL), so the agent would map to "/", which ayjnt does not serve. Add a '
                f"non-group folder segment, e.g. agents/{folder_path}/chat/agent.ts.", path=path)
        folder = path[:-len("/agent.ts")]
        tools = _tools_for(snapshot, folder, route_path) if with_tools else ()
        agents.append(Agent(
            agent_id=parsed.agent_id if parsed.agent_id is not None
            else default_agent_id(folder_path),
            class_name=parsed.class_name, base_class=parsed.base_class,
            folder_path=folder_path, route_path=route_path,
            binding=class_name_to_binding(parsed.class_name), path=path, source_file=shown,
            tools=tools))
    try:  # ayjnt: entries.sort((a, b) => a.routePath.localeCompare(b.routePath)), stable
        agents.sort(key=lambda a: sort_key(a.route_path))
    except UnprovenOrder as e:
        shown = next(a.source_file for a in agents if a.route_path == e.text)
        raise AyjntError(
            f"{shown}: the folder name has combining marks out of canonical order next to a "
            f"letter ICU contracts, and ICU's collation (Bun's localeCompare, which ayjnt sorts "
            f"agents with) never finishes on it: it repeats the same letter for ever, and Bun "
            f"can hang comparing two such names. Rename the folder (any NFC or NFD spelling of "
            f"the name works).", path=shown) from None

    seen: dict[tuple[str, str], Agent] = {}
    for agent in agents:
        if agent.binding in RESERVED_BINDINGS:
            raise _reserved_error(agent.binding, agent.class_name, f"agent {agent.source_file}")
        for kind, value in (("routePath", agent.route_path), ("binding", agent.binding),
                            ("agentId", agent.agent_id)):
            prior = seen.get((kind, value))
            if prior is not None:
                raise AyjntError(f'Duplicate {kind} "{value}"\n  first:  {prior.source_file}\n'
                                 f"  second: {agent.source_file}")
            seen[(kind, value)] = agent

    workflows = _scan_workflows(snapshot)
    owners = {a.binding: f"agent {a.source_file}" for a in agents}
    for wf in workflows:
        if wf.binding in RESERVED_BINDINGS:
            raise _reserved_error(wf.binding, wf.class_name, f"workflow {wf.source_file}")
        if wf.binding in owners:
            raise AyjntError(f'Duplicate binding "{wf.binding}"\n  first:  {owners[wf.binding]}\n'
                             f"  second: workflow {wf.source_file}")
        owners[wf.binding] = f"workflow {wf.source_file}"
    return Manifest(tuple(agents), tuple(workflows))


def _scan_workflows(snapshot: Snapshot) -> list[Workflow]:
    found: list[Workflow] = []
    for base in ("agents", "workflows"):
        for path in _glob(snapshot, base, "workflow.ts"):
            m = re.compile(CLASS_PATTERN).search(strip_comments(_read_text(snapshot, path)))
            if m is None or m.group(2) not in WORKFLOW_BASES:
                continue  # ayjnt skips unrelated workflow.ts files silently
            found.append(Workflow(m.group(1), m.group(2), class_name_to_binding(m.group(1)),
                                  class_name_to_kebab(m.group(1)), path, snapshot.display(path)))
    found.sort(key=lambda w: sort_key(w.class_name))  # ASCII identifiers
    return found
