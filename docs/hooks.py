"""MkDocs hooks: the reference pages are written from the code each time the site is built.

Hooks (``hooks:`` in mkdocs.yml) are built into MkDocs, so the generated pages need no
plugin beyond the theme: ``on_files`` adds them to the site as generated files. The
markdown itself comes from ``synthpipe.docs_reference``, which the tests check on their own.
"""

from __future__ import annotations

from typing import Any

from mkdocs.structure.files import File, Files

from synthpipe.docs_reference import checks_reference_markdown, spec_reference_markdown

# The generated pages, by their place under docs/ (they exist only in the built site)
GENERATED_PAGES = {
    "reference/spec.md": spec_reference_markdown,
    "reference/checks.md": checks_reference_markdown,
}


def on_files(files: Files, config: Any) -> Files:
    """Add the generated reference pages to the site's files."""
    for path, write in GENERATED_PAGES.items():
        files.append(File.generated(config, path, content=write()))
    return files
