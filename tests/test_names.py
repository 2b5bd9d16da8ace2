import pytest

from skilllab import InvalidName, slugify, validate_agent_id, validate_skill_name


@pytest.mark.parametrize("ok", ["sre-oncall", "a", "db.primary_1", "0agent", "x" * 64])
def test_valid_agent_ids(ok):
    assert validate_agent_id(ok) == ok


@pytest.mark.parametrize("bad", ["", "-x", "Upper", "a/b", "../x", "a..b", "x" * 65, "/abs", "a b", None, 3])
def test_invalid_agent_ids(bad):
    with pytest.raises(InvalidName):
        validate_agent_id(bad)


@pytest.mark.parametrize("ok", ["a", "crashloop-missing-config", "x1-2", "a" * 64])
def test_valid_skill_names(ok):
    assert validate_skill_name(ok) == ok


@pytest.mark.parametrize("bad", ["", "-a", "a-", "a--b", "A", "a_b", "a.b", "../x", "a" * 65, "/etc"])
def test_invalid_skill_names(bad):
    with pytest.raises(InvalidName):
        validate_skill_name(bad)


def test_slugify_makes_valid_readable_names():
    assert slugify("Pods OOMKilled!  (payments)") == "pods-oomkilled-payments"
    assert slugify("Ünïcode — café") == "unicode-cafe"
    assert slugify("!!!") == "skill"
    long = slugify("word " * 40)
    assert len(long) <= 64 and not long.endswith("-")
    validate_skill_name(long)


def test_moved_harness_modules_still_import_with_a_warning():
    import importlib
    import sys
    import warnings

    import skilllab.lab.replay as new

    sys.modules.pop("skilllab.replay", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = importlib.import_module("skilllab.replay")
    assert old is new
    assert any(issubclass(w.category, DeprecationWarning) and "skilllab.lab.replay" in str(w.message)
               for w in caught)
