"""Build the moetop-tiny training corpus from text that Debian packages ship.

Six domains, each written as Training/work/corpus/<domain>.{train,valid}.txt with documents
separated by the end-of-text marker, plus sources.json (package, bytes, licence, files per
domain). The held-out slice is a whole-document split: no document appears in both.

Usage: python3 Training/corpus.py [--budget-mb 4.0]
"""

import argparse
import gettext
import glob
import gzip
import hashlib
import json
import os
import random
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

from common import CORPUS_DIR, DOMAINS, EOT

# Step 0: every source is a file that an installed Debian package owns.
PY_DOC_SOURCES = "/usr/share/doc/python3.11/html/_sources"
PY_STDLIB = "/usr/lib/python3.11"
MAN_ROOT = "/usr/share/man"
LOCALE_ROOT = "/usr/share/locale"


def read_text(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as handle:
        return handle.read().decode("utf-8", errors="replace")


def package_files(package, suffix):
    """The files of an installed Debian package whose names end with `suffix`."""
    out = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=True)
    return sorted(p for p in out.stdout.splitlines() if p.endswith(suffix) and os.path.isfile(p))


# Step 1: English prose: the narrative parts of the Python 3.11 documentation (tutorial,
# HOWTOs, FAQ, What's New, library reference), with reStructuredText markup and code samples removed.
ROLE = re.compile(r":[a-z:]+:`~?!?([^`<]*?)(?:\s*<[^`]*>)?`")
LITERAL = re.compile(r"``([^`]*)``")
LINK = re.compile(r"`([^`<]+?)\s*<[^`]*>`_+")


def clean_rst(text):
    lines = []
    skipping = False
    for line in text.splitlines():
        stripped = line.strip()
        if line.startswith(".. "):
            skipping = True  # directives and their indented bodies (code, notes with options)
            continue
        if skipping and (not stripped or line.startswith((" ", "\t"))):
            if not stripped:
                lines.append("")
            continue
        skipping = False
        if line.startswith(("    ", "\t")) or stripped.startswith((">>>", "...")):
            continue  # indented literal blocks are code, not prose
        if stripped and len(set(stripped)) == 1 and stripped[0] in "=-~^*#+'\"`":
            continue  # section underlines
        line = ROLE.sub(r"\1", line)
        line = LINK.sub(r"\1", line)
        line = LITERAL.sub(r"\1", line)
        line = line.replace("::", ":").replace("**", "").replace("|", "")
        lines.append(line.rstrip())
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def prose_documents():
    paths = []
    for part in ("tutorial", "howto", "faq", "whatsnew", "library"):
        paths += sorted(glob.glob(f"{PY_DOC_SOURCES}/{part}/*.rst.txt"))
    paths += [f"{PY_DOC_SOURCES}/glossary.rst.txt"]
    docs = []
    for path in paths:
        text = clean_rst(read_text(path))
        # Long files become several documents of paragraphs so the split is fine-grained.
        docs += chunk_paragraphs(text, 6000)
    return docs, {"package": "python3.11-doc", "licence": "PSF-2.0", "files": len(paths)}


def chunk_paragraphs(text, size):
    chunks, current = [], ""
    for para in text.split("\n\n"):
        if len(current) + len(para) > size and current:
            chunks.append(current.strip())
            current = ""
        current += para + "\n\n"
    if current.strip():
        chunks.append(current.strip())
    return [c for c in chunks if len(c) > 200]


# Step 2: Python source: the standard library as Debian packages it (no tests).
def python_documents():
    paths = [
        p
        for p in sorted(glob.glob(f"{PY_STDLIB}/**/*.py", recursive=True))
        if "/test" not in p and "/idlelib/idle_test" not in p and "/lib2to3/tests" not in p
    ]
    docs = []
    for path in paths:
        text = read_text(path)
        docs += chunk_lines(text, 8000)
    return docs, {
        "package": "libpython3.11-minimal, libpython3.11-stdlib",
        "licence": "PSF-2.0",
        "files": len(paths),
    }


def chunk_lines(text, size):
    """Split source at blank lines into pieces of about `size` characters."""
    chunks, current = [], []
    length = 0
    for line in text.splitlines(keepends=True):
        current.append(line)
        length += len(line)
        if length > size and not line.strip():
            chunks.append("".join(current).strip("\n"))
            current, length = [], 0
    if current:
        chunks.append("".join(current).strip("\n"))
    return [c for c in chunks if len(c) > 200]


# Step 3: C source: the GNU C library headers.
def c_documents():
    paths = package_files("libc6-dev", ".h")
    docs = []
    for path in paths:
        docs += chunk_lines(read_text(path), 8000)
    return docs, {"package": "libc6-dev", "licence": "LGPL-2.1-or-later", "files": len(paths)}


# Step 4: legal text: the common licence texts plus every package's copyright file,
# deduplicated (many packages repeat the same licence verbatim).
def legal_documents():
    paths = sorted(glob.glob("/usr/share/common-licenses/*")) + sorted(
        glob.glob("/usr/share/doc/*/copyright")
    )
    seen, docs = set(), []
    for path in paths:
        if not os.path.isfile(path):
            continue
        for chunk in chunk_paragraphs(read_text(path), 6000):
            key = hashlib.sha1(re.sub(r"\s+", " ", chunk).encode()).hexdigest()
            if key not in seen:
                seen.add(key)
                docs.append(chunk)
    return docs, {
        "package": "base-files (common-licenses) and each installed package's copyright file",
        "licence": "licence texts: verbatim copying permitted; copyright files: per package",
        "files": len(paths),
    }


# Step 5: technical manuals: English man pages rendered to plain text by man-db and groff.
def render_man(path, lang=None):
    env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="", LC_ALL="C.UTF-8")
    if lang:
        env["LANG"] = lang
    try:
        rendered = subprocess.run(
            ["man", "-E", "UTF-8", "--nh", "--nj", "-l", path],
            capture_output=True,
            env=env,
            timeout=30,
        ).stdout
        plain = subprocess.run(["col", "-bx"], input=rendered, capture_output=True).stdout
    except subprocess.TimeoutExpired:
        return ""
    text = plain.decode("utf-8", errors="replace")
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def render_all(paths):
    with ThreadPoolExecutor(max_workers=2) as pool:
        return [t for t in pool.map(render_man, paths) if len(t) > 200]


def manual_documents(budget):
    paths = []
    for section in ("1", "5", "7", "8"):
        paths += sorted(glob.glob(f"{MAN_ROOT}/man{section}/*"))
    # The Google Cloud CLI ships thousands of near-identical generated pages: leave them out.
    paths = [p for p in paths if "/gcloud" not in p and "/gsutil" not in p and "/bq" not in p]
    random.Random(1).shuffle(paths)
    # Render only about as many pages as the budget needs (rendering is the slow part).
    docs, total = [], 0
    for start in range(0, len(paths), 64):
        for text in render_all(paths[start : start + 64]):
            docs += chunk_paragraphs(text, 6000)
            total += len(text)
        if total > budget * 1.3:
            break
    return docs, {
        "package": "man pages of the installed packages (coreutils, dpkg, apt, git, ...)",
        "licence": "per package (mostly GPL-2.0+/GPL-3.0+)",
        "files": len(paths),
    }


# Step 6: German, French and Spanish: translated man pages (manpages-de/-fr/-es) and the
# translated message catalogues (msgstr texts of the .mo files) of installed programs.
def foreign_documents(budget):
    docs = []
    for lang in ("de", "fr", "es"):
        paths = sorted(glob.glob(f"{MAN_ROOT}/{lang}/man*/*"))
        for text in render_all(paths):
            docs += chunk_paragraphs(text, 6000)
        for mo in sorted(glob.glob(f"{LOCALE_ROOT}/{lang}/LC_MESSAGES/*.mo")):
            try:
                with open(mo, "rb") as handle:
                    catalog = gettext.GNUTranslations(handle)._catalog
            except Exception:
                continue
            messages = []
            for key, value in catalog.items():
                if key == "" or not isinstance(value, str):
                    continue
                if len(value) > 20 and " " in value:
                    messages.append(value.strip())
            if messages:
                docs += chunk_paragraphs("\n\n".join(messages), 6000)
    return docs, {
        "package": "manpages-de, manpages-fr, manpages-es; translations in /usr/share/locale",
        "licence": "manpages-*: GPL-3.0-or-later; catalogues: per package (mostly GPL)",
        "files": None,
    }


# Step 7: numbers and arithmetic, generated with a fixed seed.
def arithmetic_documents(budget):
    rng = random.Random(7)
    docs, total = [], 0
    while total < budget * 1.1:
        lines = []
        kind = rng.randrange(6)
        for _ in range(rng.randrange(8, 24)):
            a, b = rng.randrange(0, 1000), rng.randrange(1, 100)
            if kind == 0:
                lines.append(f"{a} + {b} = {a + b}")
            elif kind == 1:
                lines.append(f"{a} - {b} = {a - b}")
            elif kind == 2:
                a = rng.randrange(0, 100)
                lines.append(f"{a} * {b} = {a * b}")
            elif kind == 3:
                lines.append(f"{a * b} / {b} = {a}")
            elif kind == 4:
                start, step = rng.randrange(0, 100), rng.randrange(1, 12)
                lines.append(", ".join(str(start + i * step) for i in range(8)))
            else:
                x = rng.randrange(2, 13)
                lines = [f"{x} x {i} = {x * i}" for i in range(1, 13)]
                break
        text = "\n".join(lines)
        docs.append(text)
        total += len(text) + 1
    return docs, {"package": "generated by Training/corpus.py", "licence": "CC0-1.0", "files": 0}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget-mb", type=float, default=4.0, help="train bytes per domain")
    parser.add_argument("--valid-fraction", type=float, default=0.04)
    args = parser.parse_args()
    budget = int(args.budget_mb * 1_000_000)
    os.makedirs(CORPUS_DIR, exist_ok=True)

    builders = {
        "prose": lambda: prose_documents(),
        "python": lambda: python_documents(),
        "c": lambda: c_documents(),
        "legal": lambda: legal_documents(),
        "manual": lambda: manual_documents(budget),
        "foreign": lambda: foreign_documents(budget),
        "arithmetic": lambda: arithmetic_documents(budget),
    }
    assert list(builders) == DOMAINS
    sources = {}
    for domain, build in builders.items():
        docs, info = build()
        # Shuffle whole documents, hold out the first slice, cap the rest at the budget.
        rng = random.Random(hash_seed(domain))
        rng.shuffle(docs)
        total = sum(len(d) for d in docs)
        n_valid_chars = min(int(total * args.valid_fraction), 120_000)
        valid, train, acc = [], [], 0
        for doc in docs:
            if acc < n_valid_chars:
                valid.append(doc)
                acc += len(doc)
            else:
                train.append(doc)
        kept, used = [], 0
        for doc in train:
            if used >= budget:
                break
            kept.append(doc)
            used += len(doc)
        for name, part in (("train", kept), ("valid", valid)):
            with open(f"{CORPUS_DIR}/{domain}.{name}.txt", "w", encoding="utf-8") as handle:
                handle.write(EOT.join(part))
        info.update(
            available_bytes=sum(len(d.encode()) for d in docs),
            train_bytes=sum(len(d.encode()) for d in kept),
            valid_bytes=sum(len(d.encode()) for d in valid),
            train_documents=len(kept),
            valid_documents=len(valid),
        )
        sources[domain] = info
        print(f"{domain:10s} train {info['train_bytes']:>9,d} B  valid {info['valid_bytes']:>8,d} B"
              f"  ({len(kept)} / {len(valid)} documents)", flush=True)
    with open(f"{CORPUS_DIR}/sources.json", "w") as handle:
        json.dump(sources, handle, indent=1)


def hash_seed(name):
    return int(hashlib.sha1(name.encode()).hexdigest()[:8], 16)


if __name__ == "__main__":
    main()
