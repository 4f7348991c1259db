"""mkdocs hooks of QED: the proofs become pages, generated lists fill the pages, the build fails loudly.

What they do, by event:

- ``on_config``: parse every question page (a bad page stops the build, naming the file and field);
  feed the allowed tags to material's tags plugin; key mkdocs-jupyter's cache on the shared helpers;
  give every executed cell a timeout and make an execution failure name its proof module; execute
  the proofs missing from the cache in parallel (``qed.notebooks.prerender``, ``QED_JOBS`` at a time),
  and read back what each execution ran: the claims, their outcomes, the torch version. A claim
  defined in a module but not run by its execution stops the build.
- ``on_files``: add each proof module ``answers/<section>/<module>.py`` as a page (no symlink, so it
  works on Windows too); helpers (``_*.py``, ``__init__.py``, ``conftest.py``) are not pages. Add
  ``assets/javascripts/qed-questions.js``, the question list that quiz mode's "random question" reads.
- ``on_page_markdown``: under a question's H1, its original Chinese titles and level; under
  ``## Proof``, the claims this build ran, each marked as held; at the end, the glossary terms the
  page uses; at the ``<!-- qed:... -->`` markers, the generated lists: counts, Sources table, section
  overviews, claims ledger, wrong answers in circulation, glossary, random-question chooser.
- ``on_page_content``: a question page's answer (from ``## Short answer`` on) goes in a wrapper that
  quiz mode hides until a click; a proof page opens with a link back to its question, each claim's
  ``def`` line gets an anchor (``#test_name``) that the claim lists link to, plots become files under
  ``assets/plots/`` and dead weight goes (``qed.slim``), before the search plugin indexes the page.
- ``on_post_page``: the CSS that nbconvert inlines in every notebook page (~600 KB) moves to one
  shared stylesheet; remote loaders that the notebook template adds (MathJax, Mermaid) are removed.
- ``on_post_build``: the build fails if any page loads anything from another host.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import re
import shutil
from collections import Counter
from pathlib import Path, PurePosixPath

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from mkdocs.utils import get_relative_url

from qed.claims import ClaimsFailed, is_helper, proof_module_paths, read_claims, run_module_claims
from qed.glossary import GlossaryError, load_glossary, pages_using
from qed.inventory import load_inventory
from qed.notebooks import error_summary, patch_cell_timeout, prerender
from qed.pages import CLAIM_NAME, LEVELS, PageError, allowed_tags, load_pages, load_sections, normalize_path
from qed.site_check import scan_site
from qed.slim import slim_proof_page

log = logging.getLogger("mkdocs.plugins.qed")



class _State:
    """What ``on_config`` reads once per build, for the later events."""

    def __init__(self):
        self.root = Path.cwd()
        self.pages: list = []
        self.by_src_uri: dict = {}  # "section/slug.md" -> Page
        self.proofs: list[str] = []  # repository-relative paths of the proof modules
        self.helpers: list[str] = []  # shared helpers that hold claims of their own (answers/_models.py)
        self.claims: dict[str, list] = {}  # module path (helpers too) -> its claims
        self.question_of: dict = {}  # proof module path -> the page that links to it
        self.answered_by: dict = {}  # source id -> the page whose `sources` name it
        self.css: dict[str, str] = {}  # digest -> stylesheet extracted from notebook pages
        self.executed = False  # did this build execute the proofs (mkdocs-jupyter's `execute`)?
        self.records: dict[str, dict] = {}  # proof module path -> what its execution ran (qed.claims)
        self.glossary: list = []  # qed.glossary.Term, in glossary order
        self.term_pages: dict[str, list] = {}  # term key -> the pages that use it
        self.terms_of: dict[str, list] = {}  # page src_uri -> the terms it uses, in glossary order


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
    S.helpers = [module for module, claims in S.claims.items() if claims and module not in S.proofs]
    S.question_of = {module: page for page in S.pages for module in page.proof_modules}
    S.answered_by = {sid: page for page in S.pages for sid in page.sources}
    S.css = {}
    try:
        S.glossary = load_glossary()
    except GlossaryError as error:
        raise PluginError(f"bad glossary: {error}") from None
    S.term_pages = pages_using(S.glossary, S.pages)
    S.terms_of = {page.src_uri: [] for page in S.pages}
    for term in S.glossary:
        for user in S.term_pages[term.key]:
            S.terms_of[user.src_uri].append(term)
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
    S.executed, S.records = False, {}
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
    records = _prerender(plugin)
    S.records = {module: records[S.root / module] for module in S.proofs}
    S.records.update({module: _helper_record(module, current) for module in S.helpers})
    S.executed = True
    _check_records()


def _helper_record(module: str, cache_dir: Path) -> dict:
    """A shared helper's claims, run in a child process; cached beside the notebooks (same key).

    Not ``*.json``: mkdocs-jupyter evicts every such file of its cache that no page used.
    """
    cache = cache_dir / f"helper-{Path(module).stem}.record"
    if not cache.exists():
        timeout = float(os.environ.get("QED_TIMEOUT", 120))
        try:
            record = run_module_claims(module, cwd=S.root, timeout=timeout)
        except ClaimsFailed as error:
            raise PluginError(f"shared helper {error}") from None
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(record), encoding="utf-8")
    return json.loads(cache.read_text(encoding="utf-8"))


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


def _prerender(plugin) -> dict[Path, dict]:
    """Execute the proofs missing from the cache in parallel (QED_JOBS, default: every core); their claims records."""
    failures, records = prerender([S.root / module for module in S.proofs], plugin.config)
    if failures:
        raise PluginError("; ".join(_failed(module, summary) for module, summary in failures.items()))
    return records


def _check_records():
    """Every claim a module defines was run by its execution, and held (else the build stops)."""
    for module in S.proofs + S.helpers:
        ran = [claim["name"] for claim in S.records[module]["claims"]]
        defined = [claim.name for claim in S.claims[module]]
        if ran != defined:
            not_run = list((Counter(defined) - Counter(ran)).elements()) or ["(the order differs)"]
            raise PluginError(
                f"{module}: its execution ran {len(ran)} claims, but it defines {len(defined)}; not run: {', '.join(not_run)}"
            )
        failed = [claim["name"] for claim in S.records[module]["claims"] if not claim["passed"]]
        if failed:
            raise PluginError(f"{module}: claims failed while executing: {', '.join(failed)}")


# ----------------------------------------------------------------------------------------- files


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns .py files into notebook pages
def on_files(files, config):
    for module in S.proofs:
        files.append(
            File(module, src_dir=str(S.root), dest_dir=config.site_dir, use_directory_urls=config.use_directory_urls)
        )
    for module in S.helpers:  # their source, linked from the ledger (mkdocs-jupyter ignores _*.py)
        files.append(File(module, src_dir=str(S.root), dest_dir=config.site_dir, use_directory_urls=False))
    files.append(File.generated(config, "assets/javascripts/qed-questions.js", content=_questions_js()))
    return files


def _questions_js() -> str:
    """The question list for the site's scripts (random question, quiz mode), as a script: it works from disk too."""
    questions = [
        {"url": page.src_uri[: -len(".md")] + ".html", "title": page.title, "section": page.section,
         "tags": page.tags, "level": page.level}
        for page in sorted(S.pages, key=lambda p: p.src_uri)
    ]
    sections = {section["key"]: section["title"] for section in load_sections()}
    data = json.dumps({"questions": questions, "sections": sections}, ensure_ascii=False, separators=(",", ":"))
    return f"window.QED_QUESTIONS = {data};\n"


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
        if module not in S.claims:
            raise PluginError(f"{page.file.src_uri}: '## Proof' links {module}, which does not exist")
        listing += [""] + _claim_listing(module, page, files)
    lines[end:end] = listing + [""]
    terms = S.terms_of[question.src_uri]
    if terms:
        to_glossary = _link(page, "glossary.md", files)
        links = " · ".join(f"[{term.en} {term.zh[0]}]({to_glossary}#{term.key})" for term in terms)
        lines += ["", f"Glossary: {links}", "{: .qed-terms }", ""]
    return "\n".join(lines)


def _versions(record: dict) -> str:
    torch = f"torch {record['torch']}" if record["torch"] else "torch not imported"
    return f"{torch}, Python {record['python']}"


def _environment(record: dict) -> str:
    return f"{_versions(record)}, run {record['ran_at']}"


def _claim_listing(module: str, page, files) -> list[str]:
    """The claims of ``module`` that this build ran, each marked as held; none if it ran nothing."""
    to_module = _link(page, module, files)
    head = f"Claims of [`{module}`]({to_module}), each a test function"
    if not S.executed:  # QED_EXECUTE=false: nothing ran, so nothing is listed as held
        return [
            f"{head}: not listed, because this build did not run the proofs (`QED_EXECUTE=false`). "
            f"Run them with `pytest {module} -v`.",
        ]
    record = S.records[module]
    claims = record["claims"]
    out = [
        f"{head}. All {len(claims)} held when this site was built ({_environment(record)}):",
        "{: .qed-held-note }",
        "",
    ]
    return out + [_held(claim, to_module) for claim in claims]


def _held(claim: dict, to_module: str | None) -> str:
    """A list item: the held mark, the claim's name (linked to its ``def`` when the module is a page), its docstring."""
    name = f"[`{claim['name']}`]({to_module}#{claim['name']})" if to_module else f"`{claim['name']}`"
    return f'- <span class="qed-held" title="held when this site was built">✔</span> {name}: {claim["doc"]}'


def _expand(marker: str, page, files) -> str:
    expanders = {
        "counts": lambda: _counts(page, files),
        "sources": lambda: _sources_table(page, files),
        "section": lambda: _section_overview(page, files),
        "claims-ledger": lambda: _claims_ledger(page, files),
        "wrong-answers": lambda: _wrong_answers(page, files),
        "glossary": lambda: _glossary(page, files),
        "random": lambda: _random_chooser(page, files),
    }
    if marker not in expanders:
        raise PluginError(f"{page.file.src_uri}: unknown marker <!-- qed:{marker} -->")
    return expanders[marker]()


def counts() -> dict[str, int]:
    inventory = load_inventory()
    return {
        "questions": len(S.pages),
        "claims": sum(len(S.claims[module]) for module in S.proofs + S.helpers),
        "proofs": len(S.proofs),
        "wrong_answers": sum(len(page.wrong_answers) for page in S.pages),
        "sources_answered": len(S.answered_by.keys() & inventory.keys()),
        "sources_total": len(inventory),
    }


def _counts(page, files) -> str:
    c = counts()

    def to(uri: str) -> str:  # the generated pages exist only in the real site, not in test probes
        return _link(page, uri, files) if files.get_file_from_path(uri) else ""

    labels = [("Questions answered", ""), ("Claims proven", to("claims.md")),
              ("Wrong answers corrected", to("wrong-answers.md")), ("Source questions answered", to("sources.md"))]
    head = " | ".join(f"[{label}]({href})" if href else label for label, href in labels)
    return "\n".join(
        [
            f"| {head} |",
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
    pages = _section_pages(key)
    out = ["| Question | Level | Sources |", "|---|:-:|---|"] if pages else ["*No question answered here yet.*"]
    if pages:
        out[:0] = [f'<a class="qed-random-link" href="{_random_href(page, section=key)}">Random question from this section</a>', ""]
    for p in pages:
        out.append(f"| [{p.question}]({_link(page, p.src_uri, files)}) | {p.level} | {', '.join(p.sources)} |")
    pending = [q for q in load_inventory().values() if q.section in section["inventory"] and q.id not in S.answered_by]
    if pending:
        out += ["", f"Source questions of this section not answered yet ({len(pending)}):", ""]
        out += [f"- {q.id}: {_text(q.english)}" for q in pending]
    return "\n".join(out)


def _random_href(page, **query: str) -> str:
    """A link to the random-question page (a query string mkdocs would not validate, hence raw HTML)."""
    href = get_relative_url("random.html", page.url)
    return href + ("?" + "&".join(f"{name}={value}" for name, value in query.items()) if query else "")


def _section_pages(key: str) -> list:
    """A section's question pages, by level, then title (the order of its overview table)."""
    return sorted((p for p in S.pages if p.section == key), key=lambda p: (p.level, p.title))


def _by_section() -> list[tuple[dict, list]]:
    """(section, its pages) for every section with pages, in nav order."""
    return [(section, pages) for section in load_sections() if (pages := _section_pages(section["key"]))]


def _module_of_claim(question, name: str) -> str:
    for module in question.proof_modules:
        if any(claim.name == name for claim in S.claims.get(module, [])):
            return module
    raise PluginError(f"{question.src_uri}: cites `{name}`, which none of its proof modules defines")


def _claims_ledger(page, files) -> str:
    total = sum(len(S.claims[m]) for m in S.proofs + S.helpers)
    if not S.executed:
        return (
            f"*This build did not run the proofs (`QED_EXECUTE=false`), so its {total} claims are not listed "
            "as held. Build with execution (`make serve`, `mkdocs build`) or run `pytest answers/ -v`.*"
        )
    versions = sorted({_versions(record) for record in S.records.values() if record["torch"]})
    without_torch = sum(1 for record in S.records.values() if not record["torch"])
    environment = "; ".join(versions) + (f"; {without_torch} of the modules do not import torch" if without_torch else "")
    out = [
        f"**{total} claims** in {len(S.records)} modules, every one run by this build and held "
        f"({environment}). Each links to its `def` in the executed proof.",
        "",
        "| Section | Questions | Claims |",
        "|---|---:|---:|",
    ]
    grouped = [
        (section, pages, sum(len(S.records[m]["claims"]) for q in pages for m in q.proof_modules))
        for section, pages in _by_section()
    ]
    for section, pages, n in grouped:
        out.append(f"| [{section['title']}](#{section['key']}) | {len(pages)} | {n} |")
    if S.helpers:
        n = sum(len(S.records[m]["claims"]) for m in S.helpers)
        out.append(f"| [Shared helpers](#shared-helpers) | | {n} |")
    for section, pages, n in grouped:
        out += ["", f"## {section['title']} {{#{section['key']}}}", "", f"{n} claims on {len(pages)} questions.", ""]
        for question in pages:
            out += [f"### [{question.title}]({_link(page, question.src_uri, files)})", ""]
            for module in question.proof_modules:
                record, to_module = S.records[module], _link(page, module, files)
                out += [f"[`{module}`]({to_module}): {len(record['claims'])} claims, run {record['ran_at']}", ""]
                out += [_held(claim, to_module) for claim in record["claims"]]
                out.append("")
    if S.helpers:
        out += ["", "## Shared helpers {#shared-helpers}", ""]
        out += ["Modules that the proofs import, with claims of their own, run by this build in a child process.", ""]
        for module in S.helpers:
            record = S.records[module]
            out += [f"[`{module}`]({_link(page, module, files)}) (source): {len(record['claims'])} claims, run {record['ran_at']}", ""]
            out += [_held(claim, None) for claim in record["claims"]]
            out.append("")
    return "\n".join(out)


_MD_LINK = re.compile(r"\]\(([^)\s#]+)(#[^)\s]*)?\)")


def _wrong_answers(page, files) -> str:
    grouped = [(section, pages, sum(len(q.wrong_answers) for q in pages)) for section, pages in _by_section()]
    out = [
        f"**{sum(n for *_, n in grouped)} wrong answers** in circulation, from "
        f"{sum(1 for _, pages, _ in grouped for q in pages if q.wrong_answers)} "
        "questions. Each says where it was said, what is true instead, and which claim of the proof refutes it.",
        "",
        "| Section | Wrong answers |",
        "|---|---:|",
    ]
    out += [f"| [{section['title']}](#{section['key']}) | {n} |" for section, _, n in grouped]
    for section, pages, n in grouped:
        if not n:
            continue
        out += ["", f"## {section['title']} {{#{section['key']}}}", ""]
        for question in pages:
            if not question.wrong_answers:
                continue
            to_question = _link(page, question.src_uri, files)
            out += [f"### [{question.title}]({to_question}#common-wrong-answers)", ""]
            for wrong in question.wrong_answers:
                body = _rebase_links(wrong.body, question, page, files)
                body = CLAIM_NAME.sub(lambda m: _claim_link(question, m.group(1), page, files), body)
                out.append(f'??? failure "{wrong.title}"')
                out += [f"    {line}" if line.strip() else "" for line in body.split("\n")]
                out.append("")
    return "\n".join(out)


def _claim_link(question, name: str, page, files) -> str:
    module = _module_of_claim(question, name)
    return f"[`{name}`]({_link(page, module, files)}#{name})"


def _rebase_links(markdown: str, question, page, files) -> str:
    """Relative links written on ``question`` rewritten for ``page`` (another folder)."""
    base = PurePosixPath(question.src_uri).parent

    def rebase(match):
        target, anchor = match.group(1), match.group(2) or ""
        if "://" in target or target.startswith(("/", "mailto:")):
            return match.group(0)
        return f"]({_link(page, normalize_path(base / target), files)}{anchor})"

    return _MD_LINK.sub(rebase, markdown)


def _glossary(page, files) -> str:
    out = [
        f"{len(S.glossary)} terms, each with its other names and the questions that use it.",
        "",
    ]
    for term in S.glossary:
        pages = S.term_pages.get(term.key, [])
        out += [f"### {term.en} · {term.zh[0]} {{#{term.key}}}", ""]
        forms = [*term.zh[1:], *(m for m in term.match if m.lower() != term.en.lower())]
        if forms:
            out += [f"Also: {' · '.join(forms)}", "{: .qed-forms }", ""]
        out += [term.definition, ""]
        if pages:
            links = ", ".join(f"[{q.title}]({_link(page, q.src_uri, files)})" for q in sorted(pages, key=lambda q: q.title))
            out += [f"Used in: {links}", "{: .qed-used-in }", ""]
    return "\n".join(out)


def _random_chooser(page, files) -> str:
    out = [f'- <a class="qed-random-link" href="{_random_href(page, pick="any")}">Any question</a> ({len(S.pages)})']
    for section, pages in _by_section():
        out.append(f'- <a href="{_random_href(page, section=section["key"])}">{section["title"]}</a> ({len(pages)})')
    out += ["", "By tag:", ""]
    tagged = {tag: sum(tag in q.tags for q in S.pages) for tag in sorted(allowed_tags())}
    out.append(" · ".join(f'<a href="{_random_href(page, tag=tag)}">{tag}</a> ({n})' for tag, n in tagged.items() if n))
    return "\n".join(out)


# ------------------------------------------------------------------------------ notebook pages


def on_page_content(page_html, page, config, files):
    if page.file.src_uri in S.by_src_uri:
        return _wrap_answer(page_html, page)
    if page.file.src_uri not in S.proofs:
        return page_html
    page_html = _anchor_claims(page_html, page)
    page_html = _slim(page_html, page, config)
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


def _wrap_answer(page_html: str, page) -> str:
    """From ``## Short answer`` on, the page is the answer: quiz mode (qed.js) hides it until a click."""
    start = page_html.find('<h2 id="short-answer"')
    if start < 0:
        raise PluginError(f"{page.file.src_uri}: no '## Short answer' heading in the rendered page")
    bar = (
        '<div class="qed-quiz-bar"><button type="button" class="md-button md-button--primary qed-reveal">'
        "Show the answer</button></div>"
    )
    return f'{page_html[:start]}{bar}<div class="qed-answer">{page_html[start:]}</div>'


# The "In [n]:" / "Out[n]:" prompts: shown beside the cells, kept out of the search index.
_PROMPT = re.compile(r'<div class="(jp-(?:In|Out)putPrompt)')


def _slim(page_html: str, page, config) -> str:
    """Plots become files under assets/plots/, unstyled highlighting spans and the copy widgets go (qed.slim).

    Done on the content, before the search plugin reads it, so the index holds none of it either.
    """
    try:
        page_html, images = slim_proof_page(page_html, lambda name: get_relative_url(f"assets/plots/{name}", page.url))
    except ValueError as error:
        raise PluginError(f"{page.file.src_uri}: {error}") from None
    for name, data in images.items():
        target = Path(config.site_dir) / "assets" / "plots" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return _PROMPT.sub(r'<div data-search-exclude class="\1', page_html)


# A claim's `def` line in a highlighted code cell: def, whitespace (maybe its own span), the name.
_DEF = re.compile(r'(<span class="k">def</span>(?:<span class="w">\s+</span>|\s+))<span class="nf">(test_\w+)</span>')


def _anchor_claims(page_html: str, page) -> str:
    """Each claim's ``def`` gets an anchor ``#test_name``; every claim of the module must get one."""
    found = []

    def anchor(match):
        found.append(match.group(2))
        return f'<span class="qed-claim-anchor" id="{match.group(2)}"></span>{match.group(0)}'

    page_html = _DEF.sub(anchor, page_html)
    missing = [claim.name for claim in S.claims[page.file.src_uri] if claim.name not in found]
    if missing:
        raise PluginError(f"{page.file.src_uri}: no def line found on the page for {', '.join(missing)}")
    return page_html


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
