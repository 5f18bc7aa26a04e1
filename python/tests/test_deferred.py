"""Deferred records (docs/format.md section 11.5): the Python renderer gives, for every case the
C++ writer and renderer put in tests/vectors/deferred_render.json, the same message or the same
reason, and never raises on hostile bytes."""

import json
import random

from conftest import VECTORS
from ouroboros_reader import _deferred

CASES = json.loads((VECTORS / "deferred_render.json").read_text(encoding="utf-8"))


def _render(case):
    pieces = _deferred.parse_format(bytes.fromhex(case["format_hex"]))
    return _deferred.render(pieces, bytes.fromhex(case["args_hex"]))


def test_every_vector_renders_as_in_cpp():
    assert len(CASES) > 60
    mismatches = []
    for case in CASES:
        ok, text = _render(case)
        expected = case.get("message") if ok else case.get("error")
        want = case.get("message", case.get("error"))
        if ok != ("message" in case) or text != want or expected is None:
            mismatches.append((bytes.fromhex(case["format_hex"]), want, text))
    assert mismatches == []


def test_random_mutations_never_raise():
    rng = random.Random(13)
    for case in CASES:
        pieces = _deferred.parse_format(bytes.fromhex(case["format_hex"]))
        args = bytearray(bytes.fromhex(case["args_hex"]))
        for _ in range(30):
            mutated = bytearray(args)
            if mutated and rng.random() < 0.7:
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            else:
                mutated = mutated[: rng.randrange(len(mutated) + 1)]
            ok, text = _deferred.render(pieces, bytes(mutated))
            assert isinstance(text, str)


def test_mutated_format_strings_never_raise():
    rng = random.Random(31)
    for case in CASES:
        raw = bytearray(bytes.fromhex(case["format_hex"]))
        args = bytes.fromhex(case["args_hex"])
        for _ in range(20):
            mutated = bytearray(raw)
            if mutated:
                alphabet = b"{}:<>^+-# 0123456789.xXbBocsfFeEgGaAp\xff"
                mutated[rng.randrange(len(mutated))] = rng.choice(alphabet)
            pieces = _deferred.parse_format(bytes(mutated))
            ok, text = _deferred.render(pieces, args)
            assert isinstance(text, str)


def test_braces_escape_and_an_unmatched_close_is_refused():
    assert _deferred.render(_deferred.parse_format(b"{{x}} {{}}"), b"") == (True, "{x} {}")
    for bad in (b"a } b", b"}", b"x }}}"):
        assert _deferred.parse_format(bad) == "unmatched '}' in format string", bad
