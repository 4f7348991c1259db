"""mkdocs hooks of QED: the proofs become pages, generated lists fill the pages, the build fails loudly.

What they do, by event:

- ``on_config``: parse every question page (a bad page stops the build, naming the file and field);
  feed the allowed tags to material's tags plugin; key mkdocs-jupyter's cache on the shared helpers;
  give every executed cell a timeout and make an execution failure name its proof module; execute
  the proofs missing from the cache in parallel (``qed.notebooks.prerender``, ``QED_JOBS`` at a time).
- ``on_files``: add each proof module ``answers/<section>/<module>.py`` as a page (no symlink, so it
  works on Windows too); helpers (``_*.py``, ``__init__.py``, ``conftest.py``) are not pages.
- ``on_page_markdown``: under a question's H1, its original Chinese titles and level; under
  ``## Proof``, the claims read from the linked module; the counts, the Sources table and the
  section overviews at their ``<!-- qed:... -->`` markers.
- ``on_page_content``: a proof page opens with a link back to the question it proves.
- ``on_post_page``: the CSS that nbconvert inlines in every notebook page (~600 KB) moves to one
  shared stylesheet; remote loaders that the notebook template adds (MathJax, Mermaid) are removed.
- ``on_post_build``: the build fails if any page loads anything from another host.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import shutil
from pathlib import Path, PurePosixPath

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

from qed.claims import is_helper, proof_module_paths, read_claims
from qed.inventory import load_inventory
from qed.notebooks import error_summary, patch_cell_timeout, prerender
from qed.pages import LEVELS, PageError, load_pages, load_sections
from qed.site_check import scan_site

log = logging.getLogger("mkdocs.plugins.qed")



class _State:
    """What ``on_config`` reads once per build, for the later events."""

    def __init__(self):
        self.root = Path.cwd()
        self.pages: list = []
        self.by_src_uri: dict = {}  # "section/slug.md" -> Page
        self.proofs: list[str] = []  # repository-relative paths of the proof modules
        self.claims: dict[str, list] = {}  # module path (helpers too) -> its claims
        self.question_of: dict = {}  # proof module path -> the page that links to it
        self.answered_by: dict = {}  # source id -> the page whose `sources` name it
        self.css: dict[str, str] = {}  # digest -> stylesheet extracted from notebook pages


S = _State()


# ---------------------------------------------------------------------------------------- config


@event_priority(50)  # before material's tags plugin, which reads its allowed list in its own on_config
def on_config(config):
    S.root = Path(config.config_file_path).resolve().parent
    try:
        S.pages = load_pages(config.docs_dir)
    except PageError as error:
        raise PluginError(f"bad question page: {error}") from None
    S.by_src_uri = {page.src_uri: page for page in S.pages}
    answers = S.root / "answers"
    S.proofs = [path.relative_to(S.root).as_posix() for path in proof_module_paths(answers)]
    S.claims = {
        path.relative_to(S.root).as_posix(): read_claims(path) for path in sorted(answers.rglob("*.py"))
    }
    S.question_of = {module: page for page in S.pages for module in page.proof_modules}
    S.answered_by = {sid: page for page in S.pages for sid in page.sources}
    S.css = {}
    _allow_tags(config)
    _configure_notebooks(config)
    return config


def _allow_tags(config):
    from material.plugins.tags.structure.tag import Tag

    from qed.pages import allowed_tags

    plugin = config.plugins.get("material/tags")
    if plugin is not None:
        plugin.config.tags_allowed = {Tag(name) for name in allowed_tags()}


def _helpers_digest() -> str:
    """A digest of everything a proof page's output depends on besides the module itself."""
    digest = hashlib.sha256()
    inputs = [p for p in sorted((S.root / "answers").rglob("*.py")) if is_helper(p) and p.name != "conftest.py"]
    inputs += [S.root / "src" / "qed" / "claims.py", S.root / "constraints.txt"]
    for path in inputs:
        if path.exists():
            digest.update(path.relative_to(S.root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _configure_notebooks(config):
    plugin = config.plugins.get("mkdocs-jupyter")
    if plugin is None:
        return
    _patch_mkdocs_jupyter()
    if not plugin.config["execute"]:
        # Nothing worth caching, and a build without execution would evict the executed entries.
        plugin.config["cache"] = False
        return
    # mkdocs-jupyter keys its cache on the notebook's bytes only: a change to a shared helper would
    # leave stale outputs. One cache folder per state of the helpers; older folders are removed.
    base = S.root / ".cache" / "mkdocs-jupyter"
    current = base / _helpers_digest()
    if base.is_dir():
        for old in base.iterdir():
            if old == current:
                continue
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink()
    plugin.config["cache_dir"] = str(current)
    _prerender(plugin)


def _patch_mkdocs_jupyter():
    """A timeout for every executed cell, and an execution error that names its proof module."""
    from mkdocs_jupyter import convert

    patch_cell_timeout()
    if getattr(convert.nb2html, "_qed", False):
        return
    original_nb2html = convert.nb2html

    def nb2html(nb_path, *args, **kwargs):
        try:
            return original_nb2html(nb_path, *args, **kwargs)
        except Exception as error:  # CellExecutionError, CellTimeoutError, DeadKernelError, ...
            raise PluginError(_failed(Path(nb_path), error_summary(error))) from None

    nb2html._qed = True
    convert.nb2html = nb2html


def _failed(module: Path, summary: str) -> str:
    return f"proof module {module.resolve().relative_to(S.root).as_posix()} failed while executing: {summary}"


def _prerender(plugin):
    """Execute the proofs missing from the cache in parallel (QED_JOBS, default: every core)."""
    failures = prerender([S.root / module for module in S.proofs], plugin.config)
    if failures:
        raise PluginError("; ".join(_failed(module, summary) for module, summary in failures.items()))


# ----------------------------------------------------------------------------------------- files


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns .py files into notebook pages
def on_files(files, config):
    for module in S.proofs:
        files.append(
            File(module, src_dir=str(S.root), dest_dir=config.site_dir, use_directory_urls=config.use_directory_urls)
        )
    return files


# -------------------------------------------------------------------------------------- markdown


_MARKER = re.compile(r"<!-- qed:([a-z-]+) -->")


def on_page_markdown(markdown, page, config, files):
    src_uri = page.file.src_uri
    question = S.by_src_uri.get(src_uri)
    if question is not None:
        markdown = _decorate_question(markdown, question, page, files)
    return _MARKER.sub(lambda match: _expand(match.group(1), page, files), markdown)


def _link(from_page, target_uri: str, files) -> str:
    """A Markdown link target from ``from_page`` to the source file ``target_uri`` (checked by mkdocs)."""
    if files.get_file_from_path(target_uri) is None:
        raise PluginError(f"{from_page.file.src_uri}: generated link to missing file {target_uri}")
    return get_relative_url(target_uri, from_page.file.src_uri)


def _decorate_question(markdown: str, question, page, files) -> str:
    lines = markdown.split("\n")
    h1 = next(i for i, line in enumerate(lines) if line.startswith("# "))
    to_sources = _link(page, "sources.md", files)
    sources = ", ".join(f"[{sid}]({to_sources}#{sid.lower().replace('.', '')})" for sid in question.sources)
    meta = f"Level {question.level} ({LEVELS[question.level]})" + (f" · Sources: {sources}" if sources else "")
    header = [""]
    if question.zh:  # HTML, escaped: the titles are raw text from the notes (3*3 would turn into emphasis)
        header.append(f'<p class="qed-zh" lang="zh">原题：{html.escape(" / ".join(question.zh))}</p>')
        header.append("")
    header += [meta, "{: .qed-meta }", ""]
    lines[h1 + 1 : h1 + 1] = header
    proof = next(i for i, line in enumerate(lines) if line.strip() == "## Proof")
    end = next((i for i in range(proof + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    listing = []
    for module in question.proof_modules:
        claims = S.claims.get(module)
        if claims is None:
            raise PluginError(f"{page.file.src_uri}: '## Proof' links {module}, which does not exist")
        listing += ["", f"Claims of [`{module}`]({_link(page, module, files)}), each a test function:", ""]
        listing += [f"- `{claim.name}`: {claim.doc}" for claim in claims]
    lines[end:end] = listing + [""]
    return "\n".join(lines)


def _expand(marker: str, page, files) -> str:
    if marker == "counts":
        return _counts()
    if marker == "sources":
        return _sources_table(page, files)
    if marker == "section":
        return _section_overview(page, files)
    raise PluginError(f"{page.file.src_uri}: unknown marker <!-- qed:{marker} -->")


def counts() -> dict[str, int]:
    inventory = load_inventory()
    return {
        "questions": len(S.pages),
        "claims": sum(len(claims) for claims in S.claims.values()),
        "proofs": len(S.proofs),
        "wrong_answers": sum(len(page.wrong_answers) for page in S.pages),
        "sources_answered": len(S.answered_by.keys() & inventory.keys()),
        "sources_total": len(inventory),
    }


def _counts() -> str:
    c = counts()
    return "\n".join(
        [
            "| Questions answered | Claims proven | Wrong answers corrected | Source questions answered |",
            "|---:|---:|---:|---:|",
            f"| {c['questions']} | {c['claims']} | {c['wrong_answers']} | {c['sources_answered']} of {c['sources_total']} |",
        ]
    )


def _text(raw: str) -> str:
    """Raw text (a note's title) made safe inside Markdown: no emphasis, links or table cells from it."""
    return re.sub(r"([\\`*_\[\]|])", r"\\\1", html.escape(raw, quote=False))


def _sources_table(page, files) -> str:
    out = []
    by_seed: dict[int, list] = {}
    for question in load_inventory().values():
        by_seed.setdefault(question.seed, []).append(question)
    for seed in sorted(by_seed):
        questions = sorted(by_seed[seed], key=lambda q: int(q.id.split(".")[1]))
        done = sum(q.id in S.answered_by for q in questions)
        out += ["", f"### Note S{seed}", "", f"{done} of {len(questions)} answered.", ""]
        out += ["| Id | Original title | Answered by |", "|---|---|---|"]
        for q in questions:
            target = S.answered_by.get(q.id)
            cell = f"[{target.title}]({_link(page, target.src_uri, files)})" if target else "*not yet*"
            out.append(f'| <span id="{q.id.lower().replace(".", "")}">{q.id}</span> | {_text(q.title)} | {cell} |')
    return "\n".join(out)


def _section_overview(page, files) -> str:
    key = PurePosixPath(page.file.src_uri).parts[0]
    section = next((s for s in load_sections() if s["key"] == key), None)
    if section is None:
        raise PluginError(f"{page.file.src_uri}: <!-- qed:section --> outside a section folder")
    pages = sorted((p for p in S.pages if p.section == key), key=lambda p: (p.level, p.title))
    out = ["| Question | Level | Sources |", "|---|:-:|---|"] if pages else ["*No question answered here yet.*"]
    for p in pages:
        out.append(f"| [{p.question}]({_link(page, p.src_uri, files)}) | {p.level} | {', '.join(p.sources)} |")
    pending = [q for q in load_inventory().values() if q.section in section["inventory"] and q.id not in S.answered_by]
    if pending:
        out += ["", f"Source questions of this section not answered yet ({len(pending)}):", ""]
        out += [f"- {q.id}: {_text(q.english)}" for q in pending]
    return "\n".join(out)


# ------------------------------------------------------------------------------ notebook pages


def on_page_content(page_html, page, config, files):
    if page.file.src_uri not in S.proofs:
        return page_html
    question = S.question_of.get(page.file.src_uri)
    if question is None:
        return page_html
    href = get_relative_url(files.get_file_from_path(question.src_uri).url, page.url)
    module = page.file.src_uri
    name = PurePosixPath(module).name  # include_source copies the module next to the page
    back = (
        f'<p class="qed-backlink">Proof for the question <a href="{href}">{html.escape(question.question)}</a><br>'
        f'Run it yourself: <code>pytest {module} -v</code> · <a href="{name}" download>download {name}</a></p>'
    )
    return back + page_html


_STYLE = re.compile(r'<style type="text/css">(.*?)</style>', re.DOTALL)
# The notebook template adds a MathJax loader (KaTeX renders our math) and a Mermaid loader from a CDN
# (no proof draws Mermaid diagrams); both go.
_REMOTE_SCRIPTS = re.compile(
    r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->"
    r"|<script type=\"module\">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*</script>",
    re.DOTALL,
)


def on_post_page(output, page, config):
    if page.file.src_uri not in S.proofs:
        return output

    def extract(match):
        css = match.group(1)
        digest = hashlib.sha256(css.encode()).hexdigest()[:12]
        S.css[digest] = css
        href = get_relative_url(f"assets/jupyter/{digest}.css", page.url)
        return f'<link rel="stylesheet" href="{href}">'

    output = _STYLE.sub(extract, output)
    return _REMOTE_SCRIPTS.sub("", output)


def on_post_build(config):
    for digest, css in S.css.items():
        target = Path(config.site_dir) / "assets" / "jupyter" / f"{digest}.css"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(css, encoding="utf-8")
    if S.css:
        log.info("notebook CSS moved to %d shared stylesheet(s) under assets/jupyter/", len(S.css))
    problems = scan_site(config.site_dir)
    if problems:
        first, urls = next(iter(problems.items()))
        raise PluginError(
            f"the built site loads from other hosts ({len(problems)} files), e.g. {first}: {', '.join(urls[:3])}"
        )
