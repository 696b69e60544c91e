#!/usr/bin/env python3
"""Validate the SamplePrompts sets and print their counts.

Usage: python3 SamplePrompts/check.py [DIR]     (DIR defaults to this script's folder)

Checks every *.jsonl file in DIR: valid UTF-8, one JSON object per line, known fields of the
right types, ids unique across all files, domains known, boundary pairs naming two different
known domains, rewording pairs linked both ways, languages marked on multilingual prompts,
no prompt text repeated, and the minimum counts the audit needs. Prints a summary and every
problem found; exits 0 when the sets are valid, 1 when they are not, 2 on misuse.
Standard library only.
"""

import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

# The ten coverage domains; each has its own file <domain>.jsonl.
DOMAINS = [
    "legal", "medical", "financial", "code", "math", "creative", "science",
    "multilingual", "conversation", "manuals",
]
BOUNDARY_FILE = "boundary.jsonl"
BOUNDARY_DOMAIN = "boundary"  # the "domain" value of every line in boundary.jsonl
REWORDINGS_FILE = "rewordings.jsonl"
LANGUAGES = {"en", "de", "fr", "es"}

# Minimums (from issue 8 and the stress-test protocol in DESIGN.md).
MIN_TOTAL = 560
MIN_PER_DOMAIN = 50  # counted in the domain's own file
MIN_BOUNDARY = 50
MIN_PAIRS = 50
MIN_REFERENCES = 100
MIN_LANGUAGES = 3  # distinct non-English languages in the multilingual domain
MIN_WORDS = 3  # whitespace-separated tokens in a prompt

FIELDS = {"id", "domain", "prompt", "reference", "lang", "boundary", "pair"}
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def load(directory):
    """Read every *.jsonl file; return (records, errors). A record is (file, line, object)."""
    records, errors = [], []
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        errors.append(f"{directory}: no *.jsonl files")
    for path in files:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            errors.append(f"{path.name}: not valid UTF-8 at byte {e.start}")
            continue
        if text and not text.endswith("\n"):
            errors.append(f"{path.name}: last line has no newline")
        for number, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"), 1):
            where = f"{path.name}:{number}"
            if line.strip() == "":
                errors.append(f"{where}: blank line")
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"{where}: invalid JSON ({e.msg} at column {e.colno})")
                continue
            if not isinstance(value, dict):
                errors.append(f"{where}: expected a JSON object, found {type(value).__name__}")
                continue
            records.append((path.name, number, value))
    return records, errors


def check_fields(records, errors):
    """Types and presence of each field, and which file may hold which field."""
    for name, number, o in records:
        where = f"{name}:{number}"
        for key in sorted(set(o) - FIELDS):
            errors.append(f"{where}: unknown field {key!r}")
        for key in ("id", "domain", "prompt"):
            if not isinstance(o.get(key), str) or not o.get(key).strip():
                errors.append(f"{where}: field {key!r} must be a non-empty string")
        for key in ("reference", "lang", "pair"):
            if key in o and (not isinstance(o[key], str) or not o[key].strip()):
                errors.append(f"{where}: field {key!r} must be a non-empty string when present")
        if isinstance(o.get("id"), str) and not ID_PATTERN.match(o["id"]):
            errors.append(f"{where}: id {o['id']!r} is not lower-case words joined by '-'")

        domain = o.get("domain")
        if name == BOUNDARY_FILE:
            if domain != BOUNDARY_DOMAIN:
                errors.append(f"{where}: domain must be {BOUNDARY_DOMAIN!r}, found {domain!r}")
            b = o.get("boundary")
            if not (isinstance(b, list) and len(b) == 2 and all(isinstance(x, str) for x in b)):
                errors.append(f"{where}: 'boundary' must be a list of two domain names, found {b!r}")
            else:
                for x in b:
                    if x not in DOMAINS:
                        errors.append(f"{where}: boundary domain {x!r} is not one of the ten domains")
                if b[0] == b[1]:
                    errors.append(f"{where}: boundary names the same domain twice ({b[0]!r})")
        elif "boundary" in o:
            errors.append(f"{where}: 'boundary' is only allowed in {BOUNDARY_FILE}")

        if name == REWORDINGS_FILE:
            if "pair" not in o:
                errors.append(f"{where}: every line of {REWORDINGS_FILE} needs a 'pair'")
            if domain not in DOMAINS:
                errors.append(f"{where}: domain {domain!r} is not one of the ten domains")
        elif "pair" in o:
            errors.append(f"{where}: 'pair' is only allowed in {REWORDINGS_FILE}")

        if name not in (BOUNDARY_FILE, REWORDINGS_FILE):
            expected = name[: -len(".jsonl")]
            if expected not in DOMAINS:
                errors.append(f"{where}: file {name} is not a known set")
            elif domain != expected:
                errors.append(f"{where}: domain {domain!r} in the file of domain {expected!r}")

        is_multilingual = domain == "multilingual" or "multilingual" in (o.get("boundary") or [])
        if is_multilingual and "lang" not in o:
            errors.append(f"{where}: a multilingual prompt needs a 'lang'")
        if "lang" in o and o["lang"] not in LANGUAGES:
            errors.append(f"{where}: lang {o['lang']!r} is not one of {sorted(LANGUAGES)}")

        prompt = o.get("prompt")
        ref = o.get("reference")
        if isinstance(prompt, str) and isinstance(ref, str) and prompt and ref:
            if not prompt[-1].isspace() and not ref[0].isspace():
                errors.append(f"{where}: prompt + reference would run together; start the reference with a space or newline")
        if isinstance(prompt, str) and len(prompt.split()) < MIN_WORDS:
            errors.append(f"{where}: prompt has fewer than {MIN_WORDS} words: {prompt!r}")


def check_ids_and_pairs(records, errors):
    """Unique ids, unique prompt texts, and rewording pairs that point at each other."""
    by_id = {}
    for name, number, o in records:
        i = o.get("id")
        if not isinstance(i, str):
            continue
        if i in by_id:
            other = by_id[i]
            errors.append(f"{name}:{number}: id {i!r} already used at {other[0]}:{other[1]}")
        else:
            by_id[i] = (name, number, o)

    seen_text = {}
    for name, number, o in records:
        text = o.get("prompt")
        if isinstance(text, str):
            key = " ".join(text.split()).lower()
            if key in seen_text:
                errors.append(f"{name}:{number}: same prompt text as {seen_text[key]}")
            else:
                seen_text[key] = f"{name}:{number}"

    pairs = set()
    for name, number, o in records:
        if "pair" not in o or not isinstance(o.get("pair"), str):
            continue
        where = f"{name}:{number}"
        partner = by_id.get(o["pair"])
        if partner is None:
            errors.append(f"{where}: pair {o['pair']!r} names no prompt")
            continue
        p = partner[2]
        if p.get("pair") != o["id"]:
            errors.append(f"{where}: pair {o['pair']!r} points back to {p.get('pair')!r}, not {o['id']!r}")
            continue
        if p["id"] == o["id"]:
            errors.append(f"{where}: prompt is paired with itself")
            continue
        if p.get("domain") != o.get("domain"):
            errors.append(f"{where}: pair partner {p['id']!r} has domain {p.get('domain')!r}, not {o.get('domain')!r}")
        if p.get("lang") != o.get("lang"):
            errors.append(f"{where}: pair partner {p['id']!r} has lang {p.get('lang')!r}, not {o.get('lang')!r}")
        pairs.add(tuple(sorted((o["id"], p["id"]))))
    return pairs


def shape(prompt):
    """A rough syntactic kind, for the summary only."""
    s = prompt.rstrip()
    if re.search(r"\d\s*[-+*/×÷²]\s*\d.*=$|\d\s*=$|²\s*=$", s):
        return "arithmetic line"
    if re.search(r"^(def |class |import |#include|#define|struct |static |int |for \(|while \(|try:|if __name__|async def|/\*|# )", prompt, re.M):
        return "code"
    if re.match(r"^[A-Z][A-Z ]+\n", prompt) or prompt.startswith("Usage:"):
        return "man page / manual text"
    if re.search(r"^(A|B|User|Q):", prompt, re.M):
        return "dialogue"
    if s.endswith("?") or s.endswith("？") or s.startswith("¿"):
        return "question"
    if re.match(r"^(Write|Explain|List|Describe|Give|Draft|Summarise|Compute|Convert|Solve|Find|Simplify|Expand|Prove|Define|Design|Implement|Rewrite|Turn|Translate|Tell|Make|Sort|Create|Plan|Compare|Help|Check|Please|Pretend|Respond|Answer|Continue|Compose|Suggest|Share|Paint|Erkläre|Schreibe|Gib|Übersetze|Écris|Explique|Traduis|Donne|Résume|Explica|Escribe|Traduce|Dame|Describe|Simulate|Balance|State|Name)\b", s):
        return "command"
    return "fragment / other"


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1] in ("-h", "--help")):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    directory = Path(argv[1]) if len(argv) == 2 else Path(__file__).resolve().parent
    if not directory.is_dir():
        print(f"check.py: {directory} is not a directory", file=sys.stderr)
        return 2

    records, errors = load(directory)
    check_fields(records, errors)
    pairs = check_ids_and_pairs(records, errors)

    # Counts.
    per_file = Counter(name for name, _, _ in records)
    in_domain_file = Counter(o.get("domain") for name, _, o in records
                             if name not in (BOUNDARY_FILE, REWORDINGS_FILE))
    in_rewordings = Counter(o.get("domain") for name, _, o in records if name == REWORDINGS_FILE)
    boundary_touch = Counter(x for name, _, o in records if name == BOUNDARY_FILE
                             for x in (o.get("boundary") or []) if isinstance(x, str))
    boundary_pairs = Counter(tuple(sorted(o["boundary"])) for name, _, o in records
                             if name == BOUNDARY_FILE and isinstance(o.get("boundary"), list))
    references = Counter(name for name, _, o in records if "reference" in o)
    langs = Counter(o.get("lang", "en") for _, _, o in records)
    multilingual_langs = {o["lang"] for _, _, o in records
                          if o.get("domain") == "multilingual" and "lang" in o} - {"en"}
    prompts = [o["prompt"] for _, _, o in records if isinstance(o.get("prompt"), str)]
    shapes = Counter(shape(p) for p in prompts)

    total = len(records)
    n_boundary = per_file.get(BOUNDARY_FILE, 0)
    n_refs = sum(references.values())
    for d in DOMAINS:
        if in_domain_file.get(d, 0) < MIN_PER_DOMAIN:
            errors.append(f"domain {d!r}: {in_domain_file.get(d, 0)} prompts in {d}.jsonl, need {MIN_PER_DOMAIN}")
    if total < MIN_TOTAL:
        errors.append(f"{total} prompts in all, need {MIN_TOTAL}")
    if n_boundary < MIN_BOUNDARY:
        errors.append(f"{n_boundary} boundary prompts, need {MIN_BOUNDARY}")
    if len(pairs) < MIN_PAIRS:
        errors.append(f"{len(pairs)} rewording pairs, need {MIN_PAIRS}")
    if n_refs < MIN_REFERENCES:
        errors.append(f"{n_refs} prompts with a reference, need {MIN_REFERENCES}")
    if len(multilingual_langs) < MIN_LANGUAGES:
        errors.append(f"multilingual prompts use {sorted(multilingual_langs)}, need {MIN_LANGUAGES} languages besides English")

    # Report.
    print(f"{total} prompts in {len(per_file)} files, {len(set(o.get('id') for _, _, o in records))} unique ids")
    print()
    print(f"{'domain':<14}{'own file':>9}{'rewordings':>11}{'together':>9}{'in boundary':>12}{'references':>11}")
    for d in DOMAINS:
        own, rw = in_domain_file.get(d, 0), in_rewordings.get(d, 0)
        print(f"{d:<14}{own:>9}{rw:>11}{own + rw:>9}{boundary_touch.get(d, 0):>12}{references.get(d + '.jsonl', 0):>11}")
    print(f"{'boundary':<14}{n_boundary:>9}{'':>11}{'':>9}{'':>12}{references.get(BOUNDARY_FILE, 0):>11}")
    print(f"{'(rewordings)':<14}{'':>9}{per_file.get(REWORDINGS_FILE, 0):>11}{'':>9}{'':>12}{references.get(REWORDINGS_FILE, 0):>11}")
    print()
    print(f"boundary prompts: {n_boundary} over {len(boundary_pairs)} distinct domain pairs")
    print(f"rewording pairs: {len(pairs)} (both ways linked)")
    print(f"prompts with a reference: {n_refs}")
    print("languages: " + ", ".join(f"{k} {v}" for k, v in sorted(langs.items())))
    lengths = sorted(len(p) for p in prompts)
    words = sorted(len(p.split()) for p in prompts)
    if lengths:
        buckets = Counter("1-20" if n <= 20 else "21-60" if n <= 60 else "61-120" if n <= 120
                          else "121-250" if n <= 250 else "251+" for n in lengths)
        print(f"prompt length: {lengths[0]} to {lengths[-1]} characters (median {lengths[len(lengths) // 2]}), "
              f"{words[0]} to {words[-1]} words")
        print("  characters: " + ", ".join(f"{k}: {buckets.get(k, 0)}" for k in ("1-20", "21-60", "61-120", "121-250", "251+")))
    print("shapes (rough): " + ", ".join(f"{k} {v}" for k, v in shapes.most_common()))
    print()
    if errors:
        print(f"FAIL: {len(errors)} problem(s)")
        for e in errors:
            print("  " + e)
        return 1
    print("OK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
