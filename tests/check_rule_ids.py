#!/usr/bin/env python3
"""Every rule id the repository cites is defined in docs/ (CTest docs.rule_ids, label unit).

Rule ids (R-G1, R-T5, R-G0b, E3b, D3, W2, B-..., ...) appear in code comments, test names, suite
output and the truth table. A citation resolves when some docs/*.md file defines the id as the
first cell of a table row (`| R-G1 | ...`). Source tags in the truth table's `note` column
(`[LS-API]`) must likewise be the first cell of a row of docs/conditional-requests.md, and each
`wire.md §N` citation must name a heading of docs/wire.md.

Usage: check_rule_ids.py [SOURCE_DIR]   (default: the repository holding this script)
       check_rule_ids.py --self-test    (shows that a missing definition is caught)
Exits 0 when everything resolves, 1 with one line per unresolved citation otherwise.
"""

import os
import re
import sys

# A rule id: not glued to a word, a `%` (percent-encoding such as %E2), a `$` (shell variables
# such as $E1) or a `-` on its left, and not followed by a word character.
RULE_ID = re.compile(
    r"(?<![A-Za-z0-9_%$-])"
    r"(R-[A-Z][0-9]+[a-z]?|B-[A-Z][0-9]+|E[0-9]{1,2}b?|D[0-9]{1,2}|W[0-9]{1,2})"
    r"(?![A-Za-z0-9_])")
SOURCE_TAG = re.compile(r"\[([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)\]")
WIRE_SECTION = re.compile(r"wire\.md\s+§([0-9]+(?:\.[0-9]+)?)(?:\s*-\s*§?([0-9]+(?:\.[0-9]+)?))?")
DEFINITION = re.compile(r"^\|\s*([^|]+?)\s*\|")
HEADING_SECTION = re.compile(r"^#+\s+([0-9]+(?:\.[0-9]+)?)\.?\s")

TEXT_SUFFIXES = (".cpp", ".hpp", ".h", ".py", ".mjs", ".js", ".sh", ".tsv", ".md", ".txt",
                 ".cmake", ".html", ".css", ".yml", ".yaml", ".toml")
TEXT_NAMES = ("CMakeLists.txt", "Dockerfile", "run")
SKIP_DIRS = {".git", "node_modules", "corpus", "__pycache__"}
TRUTH_TABLE = os.path.join("tests", "vectors", "conditional_requests.tsv")


def is_build_tree(path):
    return os.path.exists(os.path.join(path, "CMakeCache.txt"))


def cited_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS
                             and not is_build_tree(os.path.join(dirpath, d)))
        for name in sorted(filenames):
            if name.endswith(TEXT_SUFFIXES) or name in TEXT_NAMES:
                yield os.path.join(dirpath, name)


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def definitions(docs_dir):
    """First cells of table rows in docs/*.md, and the numbered headings of each file."""
    defined, sections = set(), {}
    if not os.path.isdir(docs_dir):
        return defined, sections
    for name in sorted(os.listdir(docs_dir)):
        if not name.endswith(".md"):
            continue
        heads = set()
        for line in read(os.path.join(docs_dir, name)).splitlines():
            m = DEFINITION.match(line)
            if m:
                defined.add(m.group(1))
            h = HEADING_SECTION.match(line)
            if h:
                heads.add(h.group(1))
        sections[name] = heads
    return defined, sections


def check(root):
    docs_dir = os.path.join(root, "docs")
    defined, sections = definitions(docs_dir)
    wire_heads = sections.get("wire.md", set())
    problems = []
    for path in cited_files(root):
        rel = os.path.relpath(path, root)
        if rel.startswith("docs" + os.sep):
            continue  # the definitions themselves (docs may cite each other's ids freely)
        text = read(path)
        for n, line in enumerate(text.splitlines(), 1):
            for rid in RULE_ID.findall(line):
                if rid not in defined:
                    problems.append(f"{rel}:{n}: rule id {rid} is not defined in docs/")
            for m in WIRE_SECTION.finditer(line):
                for sec in filter(None, m.groups()):
                    if sec not in wire_heads:
                        problems.append(f"{rel}:{n}: wire.md §{sec} is not a section of "
                                        "docs/wire.md")
            if rel == TRUTH_TABLE and not line.startswith("#"):
                cols = line.split("\t")
                note = cols[-1] if len(cols) > 1 else ""
                for tag in SOURCE_TAG.findall(note):
                    if f"[{tag}]" not in defined:
                        problems.append(f"{rel}:{n}: source tag [{tag}] is not defined in "
                                        "docs/conditional-requests.md section 15")
    return problems


def self_test(root):
    """Re-runs the check with one definition removed; it must then fail."""
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for part in ("docs", "protocol"):
            shutil.copytree(os.path.join(root, part), os.path.join(tmp, part))
        os.makedirs(os.path.join(tmp, "tests", "vectors"))
        shutil.copy(os.path.join(root, TRUTH_TABLE), os.path.join(tmp, TRUTH_TABLE))
        if check(tmp):
            print("self-test: the copy fails before anything was removed")
            return 1
        doc = os.path.join(tmp, "docs", "conditional-requests.md")
        text = read(doc)
        for victim in ("| R-G15 |", "| [LS-API] |"):
            with open(doc, "w", encoding="utf-8") as f:
                f.write(text.replace(victim, "| removed |"))
            got = check(tmp)
            if not got:
                print(f"self-test: removing {victim} was not detected")
                return 1
            print(f"self-test: removing {victim} is caught ({len(got)} citations), e.g. {got[0]}")
    print("self-test: ok")
    return 0


def main(argv):
    args = [a for a in argv[1:] if a != "--self-test"]
    root = os.path.abspath(args[0] if args else os.path.join(os.path.dirname(__file__), ".."))
    if "--self-test" in argv:
        return self_test(root)
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} citation(s) do not resolve: define the ids in "
              "docs/conditional-requests.md (or docs/wire.md), or fix the citation")
        return 1
    print("every cited rule id, source tag and wire.md section is defined in docs/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
