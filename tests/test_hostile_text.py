"""Cluster text is hostile: a property test over every output format.

Hypothesis puts arbitrary text (any Unicode, control characters, ESC and CSI sequences, lone
surrogates, HTML, Markdown, mentions, links) into every free-text field of a small cluster (object
names and namespaces, provisioners, parameters, labels, event reasons and messages, node names, the
server URL, context and version, a waiver's reason, a run note, the check's title and remediation),
runs the built-in checks plus one that echoes everything, and renders all five formats. Each must
hold whatever the text:

- JSON parses, and carries the text exactly (only lone surrogates become U+FFFD);
- JUnit is well-formed XML;
- the terminal report has no control character, off a TTY and on one (where only kfstor's own
  colour sequences may appear);
- HTML has no element or attribute beyond the template's own, and no control character;
- Markdown has no raw HTML, link, image, code span, emphasis or strikethrough of the cluster's,
  no @mention, #reference or bare URL GitHub would link.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from kfstor.collect.snapshot import Source, build
from kfstor.engine import runner
from kfstor.engine.config import Config
from kfstor.engine.loader import load_checks
from kfstor.model import CLUSTER, Check, Context, Finding, Waiver, fail, warn
from kfstor.render import renderer, sanitize
from kfstor.render.report import Report

NASTY = [
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;https://evil.example/\x07click\x1b]8;;\x07",
    "\x1b[2J\x1b[H",
    "\x9b31m",
    "\x00\x01\x07\x08\x0b\x0c\x7f\x85\x9f",
    "\ud800",
    "\udfff lone",
    "\u202eevil\u202c",
    "\ufffe\uffff",
    "line\nbreak\r\n\ttab",
    "@kubeflow/platform-team",
    "cc @alice",
    "mail@example.com",
    "#1234",
    "**bold** __under__ *em* _em_",
    "~~struck~~",
    "`code` ``more``",
    "[click](https://evil.example/)",
    "![img](https://evil.example/x.png)",
    "<https://evil.example/>",
    "https://evil.example/path",
    "www.evil.example",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<b>bold</b> &amp; &lt;",
    "a|b|c",
    "$x^2$",
    "\\*escaped\\*",
    "]]>",
    '" onmouseover="alert(1)',
]

TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=40),
    st.sampled_from(NASTY),
    st.lists(st.sampled_from(NASTY), min_size=2, max_size=4).map("".join),
    st.tuples(st.text(max_size=10), st.sampled_from(NASTY), st.text(max_size=10)).map("".join),
)

CHECKS = load_checks(include_plugins=False).checks
TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "dl", "dt", "dd", "main", "div", "svg",
    "text", "rect", "ul", "li", "button", "section", "h2", "span", "code", "table", "thead", "tr", "th", "tbody",
    "td", "p", "strong", "h3", "footer", "script", "br", "nav", "ol", "a", "details", "summary", "pre", "wbr", "abbr",
}  # fmt: skip
TEMPLATE_ATTRIBUTES = {
    "lang", "charset", "name", "content", "http-equiv", "class", "id", "width", "height", "role", "aria-label",
    "x", "y", "font-size", "fill", "type", "data-filter", "aria-pressed", "data-status", "title", "href", "rel",
    "open", "colspan", "viewbox", "preserveaspectratio",
}  # fmt: skip
# Links are the template's own: in-page anchors built from check ids, and documentation addresses.
SAFE_HREF = re.compile(r"#[a-z0-9_-]+|https://[A-Za-z0-9./_#?=&%:~+-]+")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
SGR = re.compile("\x1b\\[[0-9;]*m")


def _echo(snap: Any, ctx: Context) -> Iterator[Finding]:
    """Repeats every string of every object it is given, so each field reaches every renderer."""
    for kind in ("StorageClass", "PersistentVolumeClaim", "Event", "Node", "Pod"):
        for obj in snap.of(kind):
            yield warn(obj, f"{kind} says: {json.dumps(obj, ensure_ascii=False)}")
    yield fail(CLUSTER, "echo done")


def _cluster(t: list[str]) -> tuple[list[dict[str, Any]], Source]:
    ns, claim, node = t[0], t[1], t[2]
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": t[3],
                "creationTimestamp": "2025-01-01T00:00:00Z",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true", "note": t[4]},
                "labels": {"team": t[5]},
            },
            "provisioner": t[6],
            "parameters": {"type": t[7], "repl": t[8], "io_profile": t[9]},
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
        },
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "px-db", "creationTimestamp": "2025-02-01T00:00:00Z"},
            "provisioner": "pxd.portworx.com",
            "parameters": {"repl": t[10], "io_profile": t[11], "priority_io": t[12]},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "mysql-pv-claim", "namespace": "kubeflow"},
            "spec": {"storageClassName": t[3], "accessModes": ["ReadWriteOnce"], "volumeName": t[13]},
            "status": {"phase": "Pending"},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": claim, "namespace": ns},
            "spec": {"storageClassName": t[14], "accessModes": ["ReadWriteMany"]},
            "status": {"phase": "Lost"},
        },
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "e1", "namespace": "kubeflow"},
            "involvedObject": {"kind": "PersistentVolumeClaim", "namespace": "kubeflow", "name": "mysql-pv-claim"},
            "reason": t[15],
            "type": "Warning",
            "message": t[16],
            "lastTimestamp": "2025-05-01T11:00:00Z",
        },
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "e2", "namespace": ns},
            "involvedObject": {"kind": "PersistentVolumeClaim", "namespace": ns, "name": claim},
            "reason": "ProvisioningFailed",
            "type": "Warning",
            "message": t[17],
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": t[18], "namespace": ns},
            "spec": {
                "nodeName": node,
                "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}],
                "containers": [{"name": "c", "image": t[19]}],
            },
            "status": {"phase": "Running"},
        },
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": node, "labels": {"topology.kubernetes.io/zone": t[20]}},
        },
    ]
    source = Source(kind="cluster", description=t[21], context=t[22], server_version=t[23], insecure_tls=True)
    return objects, source


def _report(t: list[str]) -> Report:
    objects, source = _cluster(t)
    snap = build(objects, source, collected=frozenset({o["kind"] for o in objects}))
    echo = Check(
        id="echo",
        title=t[24],
        kinds=("StorageClass",),
        optional_kinds=("PersistentVolumeClaim", "Event", "Node", "Pod"),
        evaluate=_echo,
        description=t[25] or "d",
        remediation=t[26] or "r",
    )
    waiver = Waiver("echo", f"PersistentVolumeClaim/{t[0]}/{t[1]}" if t[0] else f"PersistentVolumeClaim/{t[1]}", t[27])
    config = Config(waivers=(waiver,), path=t[28])
    return runner.run([*CHECKS, echo], snap, config=config, notes=(t[29],), now="2026-01-01T00:00:00Z")


def _render(report: Report, fmt: str, tty: bool = False) -> str:
    class Out(io.StringIO):
        def isatty(self) -> bool:
            return tty

    out = Out()
    renderer(fmt)(report, out)
    return out.getvalue()


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)
        self.scripts += tag == "script"


# kfstor's own Markdown: collapsible sections with fixed summaries, and bold labels it writes.
OWN_HTML_BLOCK = re.compile(r"(<details><summary>[A-Za-z0-9 ,()]+</summary>|</details>)\s*")
OWN_BOLD = re.compile(
    r"(fail|warn|Warning: TLS verification is off|New|Resolved|Unchanged|\d+ [a-z].*"
    r"|(✅|⚠️|❌|💥|🚫|⏭️|❔) .*)"
)


def _markdown_ok(text: str) -> None:
    """Cluster text never becomes markup: in the text GitHub renders (code is literal), no mention,
    #reference, bare URL, HTML, image, link, emphasis or strikethrough of its own."""
    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    for token in parser.parse(text):
        if token.type == "html_block":
            assert OWN_HTML_BLOCK.fullmatch(token.content), token.content
        if token.type == "fence":
            assert not CONTROL.search(token.content), repr(token.content)
        in_link = False
        for i, child in enumerate(token.children or []):
            in_link = (in_link or child.type == "link_open") and child.type != "link_close"
            if child.type == "text" and not in_link:
                assert not re.search("@(?!\u200b)", child.content), ("an @ GitHub could turn into a mention", child)
                assert not re.search("#(?!\u200b)", child.content), ("a #reference", child)
                assert not re.search(":(?!\u200b)//", child.content), ("a bare URL", child)
                assert not re.search("(?i)www\\.(?!\u200b)", child.content), ("a bare www. link", child)
            if child.type == "html_inline":
                assert child.content == "<br>", child.content  # kfstor's own line break in a table cell
            assert child.type not in ("image", "s_open", "em_open"), (child.type, text)
            if child.type == "link_open":
                # Only the documentation links kfstor writes (<https://...>), never a cluster's.
                href = child.attrs["href"]
                assert isinstance(href, str) and href.startswith("https://") and "evil" not in href, href
            if child.type == "code_inline":
                assert not CONTROL.search(child.content), repr(child.content)
            if child.type == "strong_open":
                following = token.children[i + 1] if token.children and i + 1 < len(token.children) else None
                assert following is not None and OWN_BOLD.fullmatch(following.content), (following, text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXT, min_size=30, max_size=30))
def test_hostile_text_in_every_field_breaks_no_output(texts: list[str]) -> None:
    report = _report(texts)

    doc = json.loads(_render(report, "json"))
    echoed = {f["message"] for c in doc["checks"] if c["id"] == "echo" for f in c["findings"]}
    objects, _ = _cluster(texts)
    for obj in objects:
        if obj["kind"] == "StorageClass":
            assert f"StorageClass says: {sanitize.text(json.dumps(obj, ensure_ascii=False))}" in echoed
    assert doc["source"]["description"] == sanitize.text(texts[21])
    assert doc["notes"][0] == sanitize.text(texts[29])

    ET.fromstring(_render(report, "junit"))  # well-formed XML, whatever the text

    for tty in (False, True):
        table = _render(report, "table", tty=tty)
        if tty:
            table = SGR.sub("", table)  # kfstor's own colours; nothing else may drive the terminal
        assert not CONTROL.search(table), repr(CONTROL.search(table))

    html = _render(report, "html")
    tags = _Tags()
    tags.feed(html)
    assert tags.tags <= TEMPLATE_TAGS, tags.tags - TEMPLATE_TAGS
    assert tags.attributes <= TEMPLATE_ATTRIBUTES, tags.attributes - TEMPLATE_ATTRIBUTES
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert [h for h in hrefs if not SAFE_HREF.fullmatch(h)] == []
    assert tags.scripts == 1
    # HTML whitespace (tab, CR, form feed) is text; every other control character is gone.
    visible = re.sub("[\t\r\x0c]", "", html)
    assert not CONTROL.search(visible), repr(CONTROL.search(visible))

    _markdown_ok(_render(report, "markdown"))


def test_terminal_and_stderr_lines_show_control_characters_as_escapes() -> None:
    assert sanitize.terminal("a\x1b[31mb\x9bc\u202ed\ud800") == "a\\x1b[31mb\\x9bc\\u202ed\ufffd"
    assert sanitize.terminal("one\ntwo\r\n\tthree") == "one two three"
    assert sanitize.xml("a\x00b\nc") == "a\\x00b\nc"
    assert sanitize.markdown("@team **x** <b>") == "@\u200bteam \\*\\*x\\*\\* &lt;b&gt;"


def test_the_terminal_escapes_the_controls_rich_would_drop(tmp_path: Any) -> None:
    """rich's Text() silently strips BEL, BS, VT, FF and CR: a class named "http://evil\\x07lnk"
    would read "http://evillnk". kfstor escapes them first, as sanitize.terminal does, at every
    --color setting, through the real CLI."""
    import os
    import subprocess
    import sys

    name = "http://evil\x07\x08\x0b\x0c\rlnk"
    shown = sanitize.terminal(name)
    assert shown == "http://evil\\x07\\x08 lnk"
    default = {"storageclass.kubernetes.io/is-default-class": "true"}
    sc = {"kind": "StorageClass", "metadata": {"name": name, "annotations": default}, "provisioner": "pxd.portworx.com"}
    path = tmp_path / "bel.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": [sc]}))
    for color in ("never", "always"):
        result = subprocess.run(
            [sys.executable, "-m", "kfstor", "audit", "--from", str(path), "--color", color],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "COLUMNS": "200"},  # each finding on one line
        )
        assert result.returncode == 1, result.stderr  # no CSIDriver for the default class
        assert not re.search("[\x07\x08\x0b\x0c\r]", result.stdout)
        plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
        assert ("\x1b" in result.stdout) is (color == "always")
        assert f"FAIL  KFS-PROVISIONER-MISSING StorageClass/{shown}: the default StorageClass" in plain
        assert f"StorageClass {shown}" in plain
        assert "evillnk" not in plain and "evil lnk" not in plain
