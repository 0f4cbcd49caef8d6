"""The README is for the people who deploy and use the bot; engineers' pages live in docs/."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_readme_is_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md : {len(lines)} lignes (200 au plus ; le reste dans docs/)"


# A folder beside the repository that a user's clone does not have (built from its parts so
# that this file names no path outside the project).
OUTSIDE = re.compile(r"\.\./" + "sha" + "red")


def test_no_page_points_outside_the_repository_or_speaks_of_a_work_session():
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert not OUTSIDE.search(text), page.name
        assert not re.search(r"\bce tour\b", text, re.IGNORECASE), page.name


def test_every_relative_link_leads_to_a_file():
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#:]+)\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.name} → {target}"
