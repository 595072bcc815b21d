"""Every link to docs/paper_code_behaviour.md#anchor in code and docs names a heading that exists in that page, and no
citation of the private section numbering (the section sign) is left for a reader who cannot follow it."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(ROOT, "docs", "paper_code_behaviour.md")
# '#a', then optional ', #b' / ' and #c' items, which may continue on the next line (after a comment's '# ').
LINK = re.compile(r"paper_code_behaviour\.md((?:#[\w-]+)(?:(?:,| and)\s+(?:# )?#[\w-]+)*)")
SECTION_SIGN = "\u00a7"
PRIVATE_NAME = "saved" + "_reference"  # the private document's name, split so that this file does not contain it


def github_anchor(title: str) -> str:
    """GitHub's heading anchor: lowercase, punctuation dropped (letters, digits, '_', '-' kept), spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def page_anchors(text: str) -> set[str]:
    return {github_anchor(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*$", text, flags=re.M)}


def repo_files(exts=(".py", ".md", ".sh")):
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in ("results", "__pycache__")]
        for name in filenames:
            if name.endswith(exts) and os.path.join(dirpath, name) != os.path.abspath(__file__):
                yield os.path.join(dirpath, name)


def cited_anchors(text: str) -> list[str]:
    """Anchors after 'paper_code_behaviour.md', including the '#a and #b' / '#a, #b' lists used in comments."""
    return [a for m in LINK.finditer(text) for a in re.findall(r"#([\w-]+)", m.group(1))]


def cited_with_lines(text: str) -> list[tuple[int, str]]:
    return [(text.count("\n", 0, m.start()) + 1, a)
            for m in LINK.finditer(text) for a in re.findall(r"#([\w-]+)", m.group(1))]


def test_github_anchor_rules():
    assert github_anchor("Defect 9-12: tracker skips empty frames") == "defect-9-12-tracker-skips-empty-frames"
    assert github_anchor("The paper's original code: behaviour and defects") == \
        "the-papers-original-code-behaviour-and-defects"
    assert cited_anchors("see docs/paper_code_behaviour.md#a-b and #c; [x](paper_code_behaviour.md#d)") == \
        ["a-b", "c", "d"]
    assert cited_anchors("# docs/paper_code_behaviour.md#a and\n# #b-c), #not-a-link") == ["a", "b-c"]


def test_every_cited_anchor_exists():
    with open(PAGE, encoding="utf-8") as f:
        anchors = page_anchors(f.read())
    missing, cited = [], 0
    for path in repo_files():
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for lineno, a in cited_with_lines(text):
            cited += 1
            if a not in anchors:
                missing.append(f"{os.path.relpath(path, ROOT)}:{lineno}: #{a}")
    assert cited > 100, "the citations were expected across the repository"
    assert not missing, "anchors missing from docs/paper_code_behaviour.md:\n" + "\n".join(missing)


def test_no_private_section_citations_left():
    left = []
    for path in repo_files():
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        if SECTION_SIGN in text or PRIVATE_NAME in text:
            left.append(os.path.relpath(path, ROOT))
    assert not left, "section-sign citations or the private document's name remain in: " + ", ".join(left)
