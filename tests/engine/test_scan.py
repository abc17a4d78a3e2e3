from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pytest

from ayjnt_hooks.engine.collation import sort_key as locale_key
from ayjnt_hooks.engine.scan import (
    class_name_to_binding,
    class_name_to_kebab,
    decode,
    default_agent_id,
    detect_host_only_globals,
    folder_to_route,
    is_route_group,
    parse_agent_source,
    scan,
    strip_comments,
)
from ayjnt_hooks.engine.snapshot import WorkTree
from ayjnt_hooks.engine.wrangler import worker_name_from_package
from ayjnt_hooks.errors import AyjntError

from ..conftest import agent_src

Project = Callable[[dict[str, "str | bytes"]], Path]

# --- A. parsing agent.ts (reference §8 A) -------------------------------------------------


@pytest.mark.parametrize(("src", "expected"), [
    pytest.param("export default class ChatAgent extends Agent {}",
                 ("ChatAgent", "Agent", None), id="TV-01"),
    pytest.param("export default class ChatAgent extends Agent<Env, ChatState> {}",
                 ("ChatAgent", "Agent", None), id="TV-02"),
    pytest.param("export default class Tools extends McpAgent<Env, State, Props> {}",
                 ("Tools", "McpAgent", None), id="TV-03"),
    pytest.param('export const agentId = "chat_v1";\nexport default class ChatAgent extends '
                 "Agent<Env> {}", ("ChatAgent", "Agent", "chat_v1"), id="TV-04"),
    pytest.param('export const agentId: string = "chat_v1";\nexport default class ChatAgent '
                 "extends Agent {}", ("ChatAgent", "Agent", "chat_v1"), id="TV-05"),
    pytest.param("export const agentId = 'foo';\nexport default class A extends Agent {}",
                 ("A", "Agent", "foo"), id="TV-06-single"),
    pytest.param("export const agentId = `bar`;\nexport default class A extends Agent {}",
                 ("A", "Agent", "bar"), id="TV-06-backtick"),
    pytest.param("const x = 1;", None, id="TV-07"),
    pytest.param("// export default class OldAgent extends Agent {}\n"
                 "export default class NewAgent extends Agent {}",
                 ("NewAgent", "Agent", None), id="TV-08"),
    pytest.param("/*\nexport default class OldAgent extends Agent {}\n*/\n"
                 "export default class NewAgent extends Agent {}",
                 ("NewAgent", "Agent", None), id="TV-09"),
    pytest.param('/*\nexport const agentId = "old_id";\n*/\nexport const agentId = "new_id";\n'
                 "export default class A extends Agent {}", ("A", "Agent", "new_id"),
                 id="TV-10"),
    pytest.param('export const agentId = "it\'s-v1";\nexport default class A extends Agent {}',
                 ("A", "Agent", "it's-v1"), id="TV-11"),
    pytest.param('export const agentId = "";\nexport default class E extends Agent {}',
                 ("E", "Agent", None), id="TV-12"),
    pytest.param('export let agentId = "x";\nexport default class L extends Agent {}',
                 ("L", "Agent", None), id="TV-13"),
    pytest.param('export const agentId = "a\\"b";\nexport default class A extends Agent {}',
                 ("A", "Agent", "a\\"), id="TV-14"),
    pytest.param("export default class ChatAgent<T> extends Agent {}", None, id="TV-15"),
    pytest.param("export default class Mixin extends withVoice(Agent) {}",
                 ("Mixin", "withVoice", None), id="TV-16-mixin"),
    pytest.param("export default class Dotted extends agents.Agent {}",
                 ("Dotted", "agents", None), id="TV-16-dotted"),
    pytest.param("const t = `\nexport default class Fake extends Agent {}\n`;\n"
                 "export default class Real extends Agent {}", ("Fake", "Agent", None),
                 id="TV-17"),
    pytest.param("const a = 1; export default class SameLine extends Agent {}", None,
                 id="TV-18-same-line"),
    pytest.param("export default abstract class Abs extends Agent {}", None,
                 id="TV-18-abstract"),
    pytest.param("export default class Über extends Agent {}", None, id="TV-18-non-ascii"),
    pytest.param('export const agentId = "first";\nexport const agentId = "second";\n'
                 "export default class A extends Agent {}", ("A", "Agent", "first"),
                 id="TV-19"),
    # JavaScript regex semantics beyond the reference's table
    pytest.param("const a = 1;\rexport default class AfterCR extends Agent {}",
                 ("AfterCR", "Agent", None), id="js-caret-after-lone-cr"),
    pytest.param("x;\u2028export default class AfterLS extends Agent {}",
                 ("AfterLS", "Agent", None), id="js-caret-after-u2028"),
    pytest.param("x;\u2029export default class AfterPS extends Agent {}",
                 ("AfterPS", "Agent", None), id="js-caret-after-u2029"),
    pytest.param("export\u00a0default class Nbsp extends Agent {}", ("Nbsp", "Agent", None),
                 id="js-space-nbsp"),
    pytest.param("export\x1cdefault class FileSep extends Agent {}", None,
                 id="js-space-not-x1c"),
    pytest.param("export default class Spanning\n  extends Agent {}",
                 ("Spanning", "Agent", None), id="extends-on-next-line"),
    pytest.param("export default class A٣ extends Agent {}", None, id="ascii-only-word"),
    pytest.param('export const agentId = "a\u2028b";\nexport default class A extends Agent {}',
                 ("A", "Agent", None), id="id-stops-at-u2028"),
    pytest.param("export const agentId : string = 'x' as const;\n"
                 "export default class A extends Agent {}", ("A", "Agent", "x"),
                 id="id-annotation-and-trailer"),
    pytest.param("export const agentId: \"x\" = \"x\";\nexport default class A extends Agent {}",
                 ("A", "Agent", None), id="id-literal-type-rejected"),
])
def test_parse_agent_source(src: str, expected: tuple[str, str, str | None] | None) -> None:
    parsed = parse_agent_source(src)
    got = None if parsed is None else (parsed.class_name, parsed.base_class, parsed.agent_id)
    assert got == expected


@pytest.mark.parametrize(("data", "text"), [
    pytest.param(b"\xef\xbb\xbfexport", "export", id="bom-dropped"),
    pytest.param(b"a\xffb", "a\ufffdb", id="invalid-utf8-replaced"),
    pytest.param(b"\xef\xbb\xbf\xef\xbb\xbfx", "\ufeffx", id="only-first-bom"),
])
def test_decode(data: bytes, text: str) -> None:
    assert decode(data) == text


@pytest.mark.parametrize(("src", "out"), [
    pytest.param("a // c\nb", "a     \nb", id="line"),
    pytest.param("a /* x\ny */ b", "a     \n     b", id="block"),
    pytest.param("'//' + \"/*\"", "'//' + \"/*\"", id="strings-kept"),
    pytest.param("'a\\'b' // c", "'a\\'b'     ", id="escape-in-string"),
    pytest.param("'open\n// c", "'open\n    ", id="newline-ends-string"),
    pytest.param("`a\n// b` // c", "`a\n// b`     ", id="template-spans-lines"),
    pytest.param("x = 'a\\", "x = 'a\\", id="trailing-backslash"),
    pytest.param("/re//g", "/re   ", id="regex-literal-not-recognised"),
])
def test_strip_comments(src: str, out: str) -> None:
    assert strip_comments(src) == out


# --- B. folders, routes, ids, bindings, names --------------------------------------------


@pytest.mark.parametrize(("folder", "route", "agent_id"), [
    pytest.param("chat", "/chat", "chat", id="TV-20/21-chat"),
    pytest.param("admin/users", "/admin/users", "admin_users", id="TV-20/21-nested"),
    pytest.param("(public)/chat", "/chat", "chat", id="TV-20/21-group"),
    pytest.param("admin/(internal)/log", "/admin/log", "admin_log", id="TV-20-inner-group"),
    pytest.param("admin\\users", "/admin/users", "admin_users", id="TV-20-backslash"),
    pytest.param("(public)", "/", "_root", id="TV-22-group-only"),
    pytest.param("(a)/(b)", "/", "_root", id="TV-22-groups-only"),
    pytest.param("()/x", "/()/x", "()_x", id="TV-22-empty-parens-not-group"),
    pytest.param("(a)(b)/x", "/x", "x", id="double-parens-is-group"),
])
def test_routes_and_ids(folder: str, route: str, agent_id: str) -> None:
    assert folder_to_route(folder) == route
    assert default_agent_id(folder) == agent_id


@pytest.mark.parametrize(("cls", "binding"), [
    pytest.param("ChatAgent", "CHAT_AGENT", id="TV-23-chat"),
    pytest.param("AdminUsersAgent", "ADMIN_USERS_AGENT", id="TV-23-admin"),
    pytest.param("HTTPServerAgent", "HTTPSERVER_AGENT", id="TV-23-acronym"),
    pytest.param("Foo", "FOO", id="TV-23-foo"),
    pytest.param("QAAgent", "QAAGENT", id="TV-24-qa"),
    pytest.param("Agent2Go", "AGENT2_GO", id="TV-24-digit"),
    pytest.param("V2Agent", "V2_AGENT", id="TV-24-v2"),
    pytest.param("Chat_Agent", "CHAT_AGENT", id="TV-24-underscore"),
])
def test_binding(cls: str, binding: str) -> None:
    assert class_name_to_binding(cls) == binding


@pytest.mark.parametrize(("cls", "kebab"), [
    pytest.param("ChatAgent", "chat-agent", id="TV-25-chat"),
    pytest.param("HTTPServerAgent", "httpserver-agent", id="TV-25-acronym"),
    pytest.param("OrdersProcessing", "orders-processing", id="TV-25-workflow"),
])
def test_kebab(cls: str, kebab: str) -> None:
    assert class_name_to_kebab(cls) == kebab


@pytest.mark.parametrize(("name", "expected"), [
    pytest.param("@acme/chat", "chat", id="TV-26-scope"),
    pytest.param("My Cool App", "my-cool-app", id="TV-26-spaces"),
    pytest.param("!!foo!!", "foo", id="TV-26-trim"),
    pytest.param("plain-app", "plain-app", id="TV-26-plain"),
    pytest.param("日本", "", id="TV-26-empty"),
])
def test_worker_name(name: str, expected: str) -> None:
    assert worker_name_from_package(name) == expected


@pytest.mark.parametrize(("paths", "expected"), [
    pytest.param(["/chat", "/admin/users", "/Zeta", "/a_b", "/a/b"],
                 ["/a_b", "/a/b", "/admin/users", "/chat", "/Zeta"], id="TV-27"),
    pytest.param(["/Zeta", "/B", "/chat", "/a9", "/a10", "/admin/users", "/a-b", "/a/b", "/a_b",
                  "/ab", "/admin", "/public-chat", "/admin-x", "/a"],
                 ["/a", "/a_b", "/a-b", "/a/b", "/a10", "/a9", "/ab", "/admin", "/admin-x",
                  "/admin/users", "/B", "/chat", "/public-chat", "/Zeta"], id="reference-1.5"),
    pytest.param(["/b", "/B", "/a"], ["/a", "/b", "/B"], id="lower-before-upper"),
])
def test_locale_order(paths: list[str], expected: list[str]) -> None:
    assert sorted(paths, key=locale_key) == expected


# --- C. scan validation on disk -------------------------------------------------------


def _scan(root: Path) -> list[tuple[str, str, str, str]]:
    m = scan(WorkTree(str(root)))
    return [(a.route_path, a.binding, a.agent_id, a.class_name) for a in m.agents]


def _scan_error(root: Path) -> str:
    with pytest.raises(AyjntError) as info:
        scan(WorkTree(str(root)))
    return info.value.message


def test_tv28_root_agent(project: Project) -> None:
    root = project({"agents/agent.ts": agent_src("RootAgent")})
    msg = _scan_error(root)
    assert msg == (f"{root}/agents/agent.ts: agent.ts must live in a subfolder of agents/ — move "
                   "it to agents/<route>/agent.ts so the folder name gives the agent its URL.")


def test_tv29_group_only(project: Project) -> None:
    root = project({"agents/(public)/agent.ts": agent_src("PublicAgent")})
    assert _scan_error(root) == (
        f'{root}/agents/(public)/agent.ts: every segment of "(public)" is a route group (parens '
        'are stripped from the URL), so the agent would map to "/", which ayjnt does not serve. '
        "Add a non-group folder segment, e.g. agents/(public)/chat/agent.ts.")


@pytest.mark.parametrize("cls", ["Assets", "Browser", "Loader", "AI", "Email"])
def test_tv30_reserved_binding(project: Project, cls: str) -> None:
    root = project({"agents/x/agent.ts": agent_src(cls)})
    binding = class_name_to_binding(cls)
    assert _scan_error(root) == (
        f'Class "{cls}" (agent {root}/agents/x/agent.ts) derives the binding name "{binding}", '
        "which ayjnt reserves for a framework binding (BROWSER, LOADER, AI, EMAIL, ASSETS are "
        "reserved). Rename the class.")


def test_tv31_workflow_binding_collision(project: Project) -> None:
    root = project({"agents/orders/agent.ts": agent_src("Orders"),
                    "agents/orders/workflow.ts":
                        "export default class Orders extends AgentWorkflow {}"})
    assert _scan_error(root) == (f'Duplicate binding "ORDERS"\n  first:  agent {root}/agents/'
                                 f"orders/agent.ts\n  second: workflow {root}/agents/orders/"
                                 "workflow.ts")


def test_two_workflows_collide(project: Project) -> None:
    root = project({"workflows/a/workflow.ts": "export default class Job extends AgentWorkflow {}",
                    "workflows/b/workflow.ts":
                        "export default class Job extends WorkflowEntrypoint {}"})
    (root / "agents").mkdir()  # an empty agents/ folder: ayjnt checks the workflows
    msg = _scan_error(root)
    assert msg.startswith('Duplicate binding "JOB"\n  first:  workflow ')
    assert "\n  second: workflow " in msg


def test_reserved_workflow(project: Project) -> None:
    root = project({"workflows/a/workflow.ts": "export default class Ai extends AgentWorkflow {}"})
    (root / "agents").mkdir()
    assert f"(workflow {root}/workflows/a/workflow.ts)" in _scan_error(root)


# Issue #11 C: without an agents/ folder ayjnt's scan() returns before it checks the workflows'
# bindings (it still lists them). Checked against ayjnt 0.5.9's scan.ts under Bun 1.4.5.
@pytest.mark.parametrize(("files", "classes"), [
    pytest.param({"workflows/w/workflow.ts": "export default class Ai extends AgentWorkflow {}"},
                 ["Ai"], id="issue11-C-reserved-workflow-no-agents-dir"),
    pytest.param({"workflows/a/workflow.ts": "export default class Flow extends AgentWorkflow {}",
                  "workflows/b/workflow.ts": "export default class Flow extends AgentWorkflow {}"},
                 ["Flow", "Flow"], id="issue11-C-duplicate-workflows-no-agents-dir"),
])
def test_no_agents_dir_skips_workflow_checks(project: Project, files: dict[str, str],
                                             classes: list[str]) -> None:
    m = scan(WorkTree(str(project(files))))
    assert m.agents == ()
    assert [w.class_name for w in m.workflows] == classes


def test_agents_dir_that_is_a_dangling_symlink_counts_as_absent(project: Project) -> None:
    root = project({"workflows/w/workflow.ts": "export default class Ai extends AgentWorkflow {}"})
    (root / "agents").symlink_to(root / "nowhere")  # existsSync follows links: false
    assert scan(WorkTree(str(root))).agents == ()


def test_tv32_no_agents_dir(project: Project) -> None:
    root = project({"README.md": "x"})
    m = scan(WorkTree(str(root)))
    assert m.agents == () and m.workflows == ()


def test_tv33_realistic_tree(project: Project) -> None:
    root = project({
        "agents/chat/agent.ts": agent_src("ChatAgent"),
        "agents/admin/users/agent.ts": agent_src("AdminUsersAgent", "admin_users_v1"),
        "agents/(public)/public-chat/agent.ts": agent_src("PublicChatAgent"),
    })
    assert _scan(root) == [
        ("/admin/users", "ADMIN_USERS_AGENT", "admin_users_v1", "AdminUsersAgent"),
        ("/chat", "CHAT_AGENT", "chat", "ChatAgent"),
        ("/public-chat", "PUBLIC_CHAT_AGENT", "public-chat", "PublicChatAgent"),
    ]


def test_tv34_workflow_locations(project: Project) -> None:
    root = project({
        "agents/orders/workflow.ts": "export default class OrdersFlow extends AgentWorkflow {}",
        "workflows/cleanup/workflow.ts":
            "export default class CleanupFlow extends WorkflowEntrypoint {}",
        "node_modules/evil/workflow.ts": "export default class Evil extends AgentWorkflow {}",
        "src/jobs/workflow.ts": "export default class Jobs extends AgentWorkflow {}",
        "lib/workflow.ts": "export default class Lib extends UnrelatedBase {}",
        "workflows/other/workflow.ts": "export default class Other extends UnrelatedBase {}",
        "workflows/none/workflow.ts": "const x = 1;",
    })
    m = scan(WorkTree(str(root)))
    assert [(w.class_name, w.binding, w.name) for w in m.workflows] == [
        ("CleanupFlow", "CLEANUP_FLOW", "cleanup-flow"),
        ("OrdersFlow", "ORDERS_FLOW", "orders-flow")]


def test_tv35_cli_route_not_a_scan_error(project: Project) -> None:
    root = project({"agents/cli/agent.ts": agent_src("CliAgent")})
    assert _scan(root) == [("/cli", "CLI_AGENT", "cli", "CliAgent")]


def test_no_class(project: Project) -> None:
    root = project({"agents/x/agent.ts": "const x = 1;\n"})
    assert _scan_error(root) == (
        f"{root}/agents/x/agent.ts: could not find a default-exported class. Expected:\n"
        "  export default class <Name> extends Agent<...> { ... }")


@pytest.mark.parametrize(("files", "kind", "value", "first"), [
    pytest.param({"agents/(a)/chat/agent.ts": agent_src("A"),
                  "agents/(b)/chat/agent.ts": agent_src("B")}, "routePath", "/chat",
                 "agents/(a)/chat/agent.ts", id="route"),
    pytest.param({"agents/a/agent.ts": agent_src("ChatAgent"),
                  "agents/b/agent.ts": agent_src("Chat_Agent")}, "binding", "CHAT_AGENT",
                 "agents/a/agent.ts", id="binding"),
    pytest.param({"agents/a/agent.ts": agent_src("A", "same"),
                  "agents/b/agent.ts": agent_src("B", "same")}, "agentId", "same",
                 "agents/a/agent.ts", id="agentId"),
    pytest.param({"agents/admin/users/agent.ts": agent_src("A"),
                  "agents/admin_users/agent.ts": agent_src("B")}, "agentId", "admin_users",
                 "agents/admin_users/agent.ts", id="agentId-folder-collision"),
])
def test_duplicates(project: Project, files: dict[str, str], kind: str, value: str,
                    first: str) -> None:
    root = project(files)
    (second,) = set(files) - {first}
    msg = _scan_error(root)
    assert msg == (f'Duplicate {kind} "{value}"\n  first:  {root}/{first}\n'
                   f"  second: {root}/{second}")


def test_glob_rules(project: Project, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "agent.ts").write_text(agent_src("Linked"))
    root = project({
        "agents/ok/agent.ts": agent_src("Ok"),
        "agents/.hidden/agent.ts": agent_src("Hidden"),
        "agents/x/.y/agent.ts": agent_src("HiddenNested"),
        "agents/case/Agent.ts": agent_src("WrongCase"),
        "agents/deep/a/b/c/agent.ts": agent_src("Deep"),
        "agents/node_modules/pkg/agent.ts": agent_src("InNodeModules"),
    })
    (root / "agents" / "link").symlink_to(outside, target_is_directory=True)
    (root / "agents" / "filelink").mkdir()
    (root / "agents" / "filelink" / "agent.ts").symlink_to(outside / "agent.ts")
    assert [a[3] for a in _scan(root)] == ["Deep", "InNodeModules", "Ok"]


@pytest.mark.parametrize(("tools_src", "offender"), [
    pytest.param('export const t = Bun.file("x");', "Bun.file", id="TV-84-member"),
    pytest.param("// use Bun.file here?\nexport const t = 1;", None, id="TV-84-comment"),
    pytest.param("import x from 'bun:ffi';", "bun:ffi", id="TV-84-specifier"),
    pytest.param("const x = Bun . $ ;", "Bun.$", id="spaced-member"),
    pytest.param("const x = Bun.", "Bun", id="bare"),
    pytest.param("const x = myBun.file;", None, id="word-boundary"),
])
def test_tools_bun_globals(project: Project, tools_src: str, offender: str | None) -> None:
    assert detect_host_only_globals(tools_src) == offender
    root = project({"agents/a/agent.ts": agent_src("A"), "agents/a/tools.ts": tools_src})
    if offender is None:
        assert _scan(root) == [("/a", "A", "a", "A")]
    else:
        assert _scan_error(root) == (
            f"{root}/agents/a/tools.ts: uses `{offender}`, which does not exist in workerd. "
            "tools.ts runs inside the Workers runtime alongside your agent. Rename the file to "
            "tools.host.ts to run these functions on the Bun host instead (note: host tools "
            "cannot be deployed to Cloudflare).")


def test_host_tools_marker(project: Project) -> None:
    root = project({"agents/a/agent.ts": agent_src("A"),
                    "agents/a/tools.host.ts": "export const t = 1;",
                    "agents/b/agent.ts": agent_src("B"),
                    "agents/b/tools.host.ts": "// @ayjnt-optional-on-deploy\nexport const t = 1;"})
    hosts = scan(WorkTree(str(root))).host_tool_files()
    assert [(h.path, h.optional_on_deploy, h.route_path) for h in hosts] == [
        ("agents/a/tools.host.ts", False, "/a"), ("agents/b/tools.host.ts", True, "/b")]


# --- bad input: one clear message, never a traceback ------------------------------------


def test_agents_is_a_file(project: Project) -> None:
    root = project({"agents": "oops"})
    assert "is a file, but ayjnt expects a folder" in _scan_error(root)


def test_tools_ts_is_a_folder(project: Project) -> None:
    root = project({"agents/a/agent.ts": agent_src("A"), "agents/a/tools.ts/x": "1"})
    assert "tools.ts is a folder" in _scan_error(root)


def test_unreadable_agent_as_root(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project({"agents/a/agent.ts": agent_src("A")})
    real_open = os.open

    def deny(path: str, *a: object, **k: object) -> object:
        if str(path).endswith("agent.ts"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *a, **k)  # type: ignore[arg-type]
    monkeypatch.setattr(os, "open", deny)
    msg = _scan_error(root)
    assert msg.startswith(f"{root}/agents/a/agent.ts: cannot read file (Permission denied)")


def test_binary_and_non_utf8_agent(project: Project) -> None:
    root = project({"agents/a/agent.ts": b"\x00\xff\xfe binary",
                    "agents/b/agent.ts": b"\xff\n" + agent_src("B").encode()})
    assert "could not find a default-exported class" in _scan_error(root)
    (root / "agents/a/agent.ts").write_bytes(b"\xffexport default class A\xff extends Agent {}")
    assert "could not find" in _scan_error(root)
    (root / "agents/a/agent.ts").write_bytes(b"\xff\nexport default class A extends Agent {}")
    assert [a[3] for a in _scan(root)] == ["A", "B"]


@pytest.mark.parametrize(("segment", "group"), [
    ("(a)", True), ("(()", True), ("())", True), ("(a)b)", True), ("(\t)", True), ("( )", True),
    ("()", False), ("(", False), (")", False), ("", False), ("a(b)", False), ("(b)a", False),
    ("(a\nb)", False), ("(a\rb)", False), ("(a\u2028)", False), ("(\u2029)", False),
    ("(\n)", False), ("(a)\n", False), ("\n(a)", False), ("(\u0085)", True), ("(\u2027)", True),
])
def test_route_group_is_the_js_regex(segment: str, group: bool) -> None:
    """ayjnt's ``/^\\([^\\n\\r\\u2028\\u2029]+\\)$/``: tested without a regex, the same answers."""
    import re

    js = re.fullmatch("\\([^\n\r\u2028\u2029]+\\)", segment) is not None
    assert is_route_group(segment) == js == group


def test_agent_id_pattern_equals_ayjnt_s_on_random_sources() -> None:
    """AGENT_ID_PATTERN takes the blanks before "=" inside the optional type annotation (one
    `\\s*` instead of two side by side, which backtracked quadratically); on seeded random
    sources it finds what ayjnt's own spelling finds, group for group."""
    import random
    import re

    from ayjnt_hooks.engine import scan

    ayjnt_s = re.compile(
        f"{scan._LINE_START}[ \t]*export{scan._S}+const{scan._S}+agentId{scan._S}*"
        f"(?::{scan._S}*string)?{scan._S}*={scan._S}*([\"'`])((?:(?!\\1){scan._DOT})+)\\1")
    ours = re.compile(scan.AGENT_ID_PATTERN)
    rng = random.Random(20261202)
    pieces = ["export", "const", "agentId", ":", "string", "=", " ", "\t", "\n", "\u2028",
              "\xa0", '"', "'", "`", "x", "a b", "\\", ";"]
    for _ in range(20_000):
        src = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 14)))
        a, b = ayjnt_s.search(src), ours.search(src)
        assert (a and (a.span(), a.groups())) == (b and (b.span(), b.groups())), src


def test_a_long_run_of_blanks_after_agent_id_is_read_in_linear_time() -> None:
    """200,000 blanks after `agentId` and no "=": ayjnt's spelling of the pattern backtracks
    through every split of the run between its two `\\s*` (minutes); this one does not."""
    src = "export const agentId" + " " * 200_000 + ";\nexport default class A extends Agent {}"
    parsed = parse_agent_source(src)
    assert parsed is not None and parsed.agent_id is None and parsed.class_name == "A"
