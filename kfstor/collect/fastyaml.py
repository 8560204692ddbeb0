"""Fast reading of the YAML that kubectl and `kfstor snapshot` write: rapidyaml parses, json builds.

PyYAML constructs every node in Python: a 10,000-claim `kubectl get -o yaml` takes it 15-40 s. Here
rapidyaml (C++, an optional dependency) parses the file and emits it as JSON, which the C json
module turns into objects in a fraction of a second.

The objects must be exactly the ones kfstor's PyYAML loader (YAML 1.1 safe schema) builds, and the
two disagree on how a plain (unquoted) scalar is typed: PyYAML reads `yes`, `on`, `~`, `0777`,
`1_000`, `2024-01-01` as bool, None, int or date, rapidyaml's JSON keeps them as strings, and it
turns `1e3` into a number that PyYAML keeps as a string. kubectl and PyYAML's dumper quote every
string that could be mistaken, so their output has no such scalar. The fast path is therefore only
taken for files in a narrow, checked subset of YAML (`_LINE` below: block style, one construct per
line, no anchors, aliases, tags, comments or flow collections, and only plain scalars whose type
both libraries agree on); anything else returns None and is read by the PyYAML loader, which keeps
its protections against alias bombs and deep nesting. The subset never nests deeper than its
200-column indentation limit, so neither library can recurse out of bounds.

tests/test_fastyaml.py holds the differential tests (corpus, examples, generated and mutated YAML)
that keep the two paths equal.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

# Atomic groups and possessive quantifiers (Python 3.11+) keep the subset check linear and stop the
# regex engine from re-reading a line in another way than the one YAML gives it.
SUPPORTED = sys.version_info >= (3, 11)
# Below this size PyYAML is fast enough and the proven loader is used as it always was.
MIN_BYTES = 64 * 1024

# Plain words PyYAML (YAML 1.1) resolves to bool or None where rapidyaml's JSON keeps a string, and
# the words rapidyaml writes as ".nan"/".inf" where PyYAML keeps a string. `true`, `false` and
# `null` are typed alike as values but not as keys (JSON keys are strings).
_VALUE_WORDS = rb"yes|Yes|YES|no|No|NO|True|TRUE|False|FALSE|on|On|ON|off|Off|OFF|Null|NULL|nan|inf|infinity"
_KEY_WORDS = _VALUE_WORDS + rb"|true|false|null"
# rapidyaml writes these keys as ".nan", ".inf" or "-.inf" even when quoted.
_NANINF = rb"nan|\.nan|\.NaN|\.NAN|inf|\.inf|\.Inf|\.INF|infinity|-inf|-\.inf|-\.Inf|-\.INF|-infinity"
# Every character that can occur in a YAML 1.1 int, float or timestamp, or in a decimal number as
# rapidyaml reads one (exponents): a plain scalar that starts with a digit, not with 0x/0b/0o, and
# holds a character outside this set (10Gi, 500m, a hash like 7d4f8b9c6d) is a string for both.
_NUMERIC = rb"0-9eE_:.+\- TtZ"

# A simple key: PyYAML allows at most 1024 characters on one line.
_PLAIN_KEY = rb"(?!(?=[yYnNtTfFoOi])(?:" + _KEY_WORDS + rb"):)[A-Za-z_][A-Za-z0-9_./-]{0,1000}+"
_SQ_KEY = rb"'(?!(?:" + _NANINF + rb")')(?:[^'\n]|''){0,1000}+'"
_DQ_KEY = rb'"(?!(?:' + _NANINF + rb')")[^"\\\n]{0,1000}+"'  # no escapes: the text is the key
# Quoted values, on one line or folded over several; a document marker inside ends the document.
_SQ = rb"'(?:[^'\n]++|''|\n(?!---|\.\.\.))*+'"
# Escapes both read alike (no surrogates: PyYAML refuses them, rapidyaml pairs them up).
_DQ_ESCAPE = (
    rb"\\(?:[0abtnvfre \"/\\N_LP]|x[0-9a-fA-F]{2}|u(?![dD][89a-fA-F])[0-9a-fA-F]{4}"
    rb"|U(?:0000(?![dD][89a-fA-F])[0-9a-fA-F]{4}|000[1-9a-fA-F][0-9a-fA-F]{4}|0010[0-9a-fA-F]{4}))"
)
_DQ = rb'"(?:[^"\\\n]++|' + _DQ_ESCAPE + rb'|\\?\n(?!---|\.\.\.))*+"'
# The rest of a plain scalar on its line: never ': ', ' #', a trailing ':' or trailing spaces.
_PLAIN_REST = rb"(?:[^\n :#]++|[ ]++(?=[^ \n#])|:(?![ \n])|(?<![ ])\#)*+"
_PLAIN_WORD = (
    rb"(?:(?!(?=[yYnNTFoOi])(?:" + _VALUE_WORDS + rb")\n)[A-Za-z_/$(^\\;\x80-\xff]"
    # --flag, -foo, .hidden: never a number for either (-inf, -nan, .inf, .nan excluded)
    rb"|-(?!(?:inf|infinity|nan)\n)[-A-Za-z_/]|\.(?!(?:inf|Inf|INF|nan|NaN|NAN)\n)[A-Za-z_/])" + _PLAIN_REST
)
_PLAIN_NUMBER = (
    # ints and decimals that both read alike
    rb"(?:-?(?:0|[1-9][0-9]*+)(?:\.[0-9]++(?:[eE][-+][0-9]++)?)?(?=\n)"
    # two dots before anything else: neither a float nor a time (1.2.3, 10.0.0.1:6789, 6.6.72+)
    rb"|[0-9]++\.[0-9]*+\."
    + _PLAIN_REST
    + rb"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?=\n)"  # UUIDs
    # a digit first, and somewhere on the line a character no number has: 10Gi, 0/3 nodes, 7e97d2f1
    rb"|(?!0[xXbBoO])[0-9](?=[" + _NUMERIC + rb"]*+[^" + _NUMERIC + rb"\n\#])" + _PLAIN_REST + rb")"
)


def _value(extra: bytes, group: bytes) -> bytes:
    """A value after `key: ` or `- ` on a line indented by group `i`. A plain scalar continues on
    the next lines indented by at least `extra` more columns than `i` (PyYAML's rule: deeper than
    the collection that holds it), which are read as its continuation, never as structure; a
    literal block scalar's lines are indented alike. After any other value, a line that deep is
    an error for PyYAML (rapidyaml reads some of those anyway), so it is left to PyYAML."""
    more = rb"(?P=i)" + extra
    continuation = rb"(?:\n" + more + rb"[ ]*+[^ \n\#]" + _PLAIN_REST + rb")*+"
    block = (
        rb"\|[-+]?(?:\n" + more + rb"(?P<" + group + rb">[ ]*+)[^ \n][^\n]*+"
        rb"(?:\n(?:" + more + rb"(?P=" + group + rb")[^\n]*+|[ ]*+(?=\n)))*+)?"
    )
    ends = rb"(?!\n" + more + rb")"
    return (
        rb"(?>" + _PLAIN_WORD + continuation + rb"|" + _PLAIN_NUMBER + continuation
        + rb"|(?:" + _SQ + rb"|" + _DQ + rb"|\[\]|\{\}|" + block + rb")" + ends + rb")"
    )  # fmt: skip


# One line of the subset: `key:` or `key: value`, `- key: value`, `- value`, `-`, or `---`. A key
# under `- ` sits two columns further in, so its value's continuation needs three more columns.
# (Each alternative sets every group it reads: a group left over from an earlier line is never used.)
_KEY = rb"(?:" + _PLAIN_KEY + rb"|" + _SQ_KEY + rb"|" + _DQ_KEY + rb"):"
_LINE = (
    rb"(?P<i>[ ]{0,200}+)(?:" + _KEY + rb"(?:[ ]" + _value(rb"[ ]", b"k") + rb")?"
    rb"|-[ ]" + _KEY + rb"(?:[ ]" + _value(rb"[ ]{3}", b"dk") + rb")?"
    rb"|-[ ]" + _value(rb"[ ]", b"d") + rb"|-)\n|---\n"
)
_SUBSET_PATTERN = rb"(?>" + _LINE + rb")*+"
# Characters PyYAML refuses or treats as line breaks (and tabs, BOMs), which rapidyaml reads otherwise.
_ODD_CHARS = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"


@functools.cache
def _subset() -> re.Pattern[bytes]:
    """Compiled on first use (15 ms): small files never need it."""
    return re.compile(_SUBSET_PATTERN)


def in_subset(data: bytes, text: str) -> bool:
    """True when `data` (the UTF-8 bytes of `text`) is in the subset both libraries read alike."""
    if not SUPPORTED or not data.endswith(b"\n"):
        return False
    if text.isascii():
        if data.translate(None, _PRINTABLE_ASCII):
            return False
    elif _ODD_CHARS.search(text):
        return False
    return _subset().fullmatch(data) is not None


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """rapidyaml prints its parse errors on file descriptor 2 before raising; kfstor's error is one line."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def load_all(data: bytes, text: str) -> list[Any] | None:
    """The documents of a YAML stream, or None when the fast path does not apply (rapidyaml not
    installed, Python older than 3.11, input outside the subset, or any parse failure): the caller
    then reads `text` with the PyYAML loader, which also words the error for broken input."""
    if not in_subset(data, text):
        return None
    try:
        import ryml
    except ImportError:
        return None
    try:
        with _quiet_stderr():
            tree = ryml.parse_in_arena(data)
            root = tree.root_id()
            if tree.is_stream(root):
                texts = [ryml.emit_json(tree, doc) for doc in ryml.children(tree, root)]
            else:
                texts = [ryml.emit_json(tree)]
        del tree
        return [json.loads(doc) for doc in texts]
    except Exception:  # rapidyaml's parse errors, or JSON it could not write exactly: PyYAML decides
        return None
