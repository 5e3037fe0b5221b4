"""Screenshots of the portal for the docs: `make screenshots` (or .venv/bin/python scripts/screenshots.py).

Builds a demo node (as `genomenode demo` does, 300 people) in a temporary folder, serves it the way
the end-to-end tests do (tests/web/conftest.py), and saves each page at 1280x1600 to
docs/screenshots/<name>.png with Debian's chromium. A researcher's access request is sent first so
the steward's page has one to decide; the PGx page is a cohort person's report as the steward sees
it. A page the portal does not have yet is reported and skipped.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.web.conftest import CHROMIUM, build_portal_node, launch_chromium, serving  # noqa: E402

OUT = REPO / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 1600}
KEEP_ENV = ("GENOMENODE_GENE_MODELS_DIR", "GENOMENODE_ONTOLOGY_DIR")


def sign_in(page: Any, token: str) -> None:
    page.goto("/signin")
    page.get_by_label("Access token", exact=True).fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def request_access(page: Any) -> None:
    """The researcher asks for the demo dataset for their project without a grant (the steward's page shows it)."""
    from genomenode.simulate.national import DATASET, REQUESTING_PROJECT

    page.goto("/access")
    page.get_by_label("Project", exact=True).select_option(REQUESTING_PROJECT)
    page.get_by_label("Dataset", exact=True).select_option(DATASET)
    page.get_by_label("Why the project needs it", exact=True).fill(
        "CYP2C19 and CYP2D6 allele frequencies by region, to plan a pharmacogenomic screening study."
    )
    page.get_by_role("button", name="Send request").click()
    page.wait_for_load_state()


def cohort_sample(settings: Any, centre: str = "stockholm") -> str | None:
    """A person of the synthetic cohort (whose genome covers the PGx positions, unlike the demo
    families' disease-gene VCFs), by the sample name their centre submitted."""
    sheet = settings.data_dir / "demo-submissions" / f"samples-{centre}.tsv"
    if not sheet.exists():
        return None
    rows = sheet.read_text().splitlines()[1:]
    return rows[0].split("\t")[0] if rows else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--individuals", type=int, default=300)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"error: {CHROMIUM} not found; run scripts/install-system-deps.sh", file=sys.stderr)
        return 1
    for name in list(os.environ):
        if name.startswith("GENOMENODE_") and name not in KEEP_ENV:
            del os.environ[name]  # a developer's catalog URL or public URL must not reach the demo node
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    saved, missing = [], []
    with tempfile.TemporaryDirectory(prefix="genomenode-screenshots-") as tmp:
        print(f"building a demo node of {args.individuals} people in {tmp} ...", flush=True)
        node = build_portal_node(Path(tmp) / "node", individuals=args.individuals)
        with serving(node.settings) as url, sync_playwright() as playwright:
            browser = launch_chromium(playwright)

            def session(user: str | None) -> Any:
                context = browser.new_context(base_url=url, viewport=VIEWPORT, device_scale_factor=1)
                page = context.new_page()
                if user:
                    sign_in(page, node.tokens[user])
                return page

            def shoot(page: Any, name: str, path: str, before: Callable[[Any], None] | None = None) -> Any:
                answer = page.goto(path)
                if answer is None or answer.status == 404:
                    missing.append(f"{name} ({path})")
                    return None
                if before:
                    before(page)
                target = args.out / f"{name}.png"
                page.screenshot(path=str(target), full_page=False)
                saved.append(f"{target.relative_to(REPO) if target.is_relative_to(REPO) else target}")
                return answer

            visitor = session(None)
            shoot(visitor, "home", "/")
            shoot(visitor, "gene", "/gene/CYP2C19")
            shoot(visitor, "variant", "/variant/chr10-94781859-G-A")
            shoot(visitor, "dataset", "/dataset/national-demo")
            shoot(visitor, "signin", "/signin")

            request_access(session("researcher"))
            steward = session("steward")
            shoot(steward, "access-steward", "/access")
            shoot(steward, "audit-log", "/stewardship/log")

            clinician = session("clinician-stockholm")
            shoot(clinician, "case-list", "/review")
            shoot(clinician, "case", "/review/family-stockholm")
            person = cohort_sample(node.settings)
            if person:
                shoot(steward, "pgx", f"/person/{person}/pgx")
            browser.close()
    for path in saved:
        print(f"saved {path} ({(REPO / path).stat().st_size // 1024} KB)")
    for page in missing:
        print(f"not built yet, skipped: {page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
