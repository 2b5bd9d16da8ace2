import pytest
from helpers import make_skill

from skilllab import InvalidSkill, Skill, SkillParseError
from skilllab.skill import CHANGELOG, STEPS, WHAT_DIDNT

HAND_WRITTEN = """---
name: flush-dns-cache
description: Clear stale DNS answers on a node.   Use when a renamed service still resolves to its old IP.
license: Apache-2.0
metadata:
  skilllab.version: 3
  skilllab.status: active
  owner: team-net
x-custom:
  - kept
---
Intro paragraph a person wrote.

## When to use
Stale answers after a DNS change.

## Steps
1. `resolvectl flush-caches`
2. check with `dig`
   continued on a second line

## Notes from the team
Extra section nobody asked for.

```bash
## not a heading inside a code block
```

## What worked
- flushing

## What didn't work
- waiting for the TTL: it was 1 day

## Changelog
- 2026-01-01 v3: by hand
"""


def test_unchanged_document_renders_back_byte_for_byte():
    doc = Skill.parse(HAND_WRITTEN)
    assert doc.render() == HAND_WRITTEN
    generated = make_skill("restart-pod", "Restart a pod. Use when it hangs.").render()
    assert Skill.parse(generated).render() == generated


def test_parsed_fields_and_sections():
    doc = Skill.parse(HAND_WRITTEN)
    assert doc.name == "flush-dns-cache"
    assert doc.version == 3  # an unquoted number is read as the string "3"
    assert doc.metadata["owner"] == "team-net"
    assert doc.items(STEPS) == ["`resolvectl flush-caches`", "check with `dig` continued on a second line"]
    assert [s.heading for s in doc.sections] == [
        "When to use", "Steps", "Notes from the team", "What worked", "What didn't work", "Changelog"]
    assert "## not a heading" in doc.section("Notes from the team")


def test_edit_keeps_extra_sections_keys_and_untouched_text():
    doc = Skill.parse(HAND_WRITTEN)
    doc.set_list(WHAT_DIDNT, doc.items(WHAT_DIDNT) + ["restarting coredns: no effect"])
    doc.set_meta("version", "4")
    out = doc.render()
    again = Skill.parse(out)
    assert again.front["license"] == "Apache-2.0"
    assert again.front["x-custom"] == ["kept"]
    assert again.metadata["owner"] == "team-net"
    assert again.version == 4
    assert again.section("Notes from the team") == Skill.parse(HAND_WRITTEN).section("Notes from the team")
    assert again.items(WHAT_DIDNT)[-1] == "restarting coredns: no effect"
    assert "Intro paragraph a person wrote." in out
    # untouched sections keep their exact text, including the hand-made description spacing
    assert "## Steps\n1. `resolvectl flush-caches`\n2. check with `dig`\n   continued on a second line\n" in out
    assert "Clear stale DNS answers on a node.   Use when" in out


@pytest.mark.parametrize("text,reason", [
    ("no front matter\n", "no YAML front matter"),
    ("---\nname: a\n", "not closed"),
    ("---\nname: [a\n---\n", "invalid YAML front matter at line 3: expected ',' or ']'"),
    ("---\n- a\n---\n", "must be a YAML mapping"),
    ("---\nname: a\n---\nbody\n", "'description' is missing"),
    ("---\nname: a\ndescription: d\nmetadata: [1]\n---\n", "'metadata' must be a mapping"),
])
def test_parse_errors_name_path_and_reason(text, reason):
    with pytest.raises(SkillParseError) as err:
        Skill.parse(text, "lib/a/skills/a/SKILL.md")
    assert err.value.path == "lib/a/skills/a/SKILL.md"
    assert reason in err.value.reason
    assert str(err.value).startswith("lib/a/skills/a/SKILL.md: ")


def test_validate_rules():
    s = make_skill("good-name", "Does a thing. Use when a thing is needed.")
    s.validate(require_sections=True)
    s.description = "x" * 1025
    with pytest.raises(InvalidSkill, match="description: 1025 characters"):
        s.validate()
    s = make_skill("good-name", "d")
    s.set_meta("status", "archived")
    with pytest.raises(InvalidSkill, match="status"):
        s.validate()
    s = Skill({"name": "Bad_Name", "description": "d", "metadata": {}})
    with pytest.raises(InvalidSkill, match="name"):
        s.validate()
    s = Skill.parse("---\nname: a\ndescription: d\n---\n## Steps\n1. x\n")
    s.validate()  # a minimal hand-written skill is usable
    with pytest.raises(InvalidSkill, match="missing section"):
        s.validate(require_sections=True)


def test_new_skill_has_agent_skills_front_matter_and_changelog():
    s = make_skill("restart-pod", "Restart a pod. Use when it hangs.", source="s-000042")
    assert list(s.front) == ["name", "description", "metadata"]
    assert all(isinstance(v, str) for v in s.metadata.values())
    assert s.metadata["skilllab.sources"] == "s-000042"
    assert s.section(CHANGELOG) == "- 2026-03-01 v1: created (session s-000042)"
    s.add_source("s-000043")
    s.add_source("s-000043")
    assert s.sources == ["s-000042", "s-000043"]


def test_a_copy_shares_nothing_a_caller_can_change():
    """``Skill.copy`` copies the front matter all the way down (metadata, lists, YAML anchors):
    changing the copy leaves the original, its rendering and its unchanged state as they were."""
    from skilllab.skill import Skill

    text = ("---\nname: drain-node\ndescription: Drain a node.\nallowed-tools: &t [kubectl, jq]\n"
            "metadata:\n  skilllab.sources: s1 s2\n  owner: &o sre\n  backup: *o\n---\n\n# drain-node\n\n## Steps\n1. `kubectl drain n`\n")
    original = Skill.parse(text)
    twin = original.copy()
    assert not twin.changed and twin.render() == text
    twin.front["allowed-tools"].append("helm")
    twin.metadata["skilllab.sources"] = "s3"
    assert original.front["allowed-tools"] == ["kubectl", "jq"] and original.metadata["skilllab.sources"] == "s1 s2"
    assert twin.changed and not original.changed and original.render() == text


def test_front_matter_is_what_yaml_dumps_entry_by_entry():
    """Front matter put together from kept entries is byte for byte what ``yaml.safe_dump`` gives for
    the whole mapping: plain, quoted and multi-line values, keys that need quoting, long lines,
    control characters, non-ASCII text, empty and nested metadata, lists and other shapes."""
    import random

    import yaml

    from skilllab.skill import _DUMP, front_matter

    pieces = ["", " lead", "trail ", "a: b", "- x", "#c", "yes", "null", "1.0", "0x1f", "multi\nline", "tab\there",
              "é ünï 中文 😀", "'q'", '"dq"', "x" * 300, "[a]", "{b}", "@at", "`bt`", "%p", "!bang", "*star", "&amp",
              "\u00a0nbsp", "line\n\nbreaks\n", "\x85nel", "\u2028ls", "-", "?", ":", "~", "a\\b", "2026-01-01",
              "\x00nul", "\x1besc", "a\rb", "tail\n", "y " * 2000, "k: v\n- item", "---", "...", "metadata"]
    rnd = random.Random(5)

    def text() -> str:
        return "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 3)))
    fronts: list[dict] = [{}, {"name": "x", "metadata": {}}, {"name": "x", "metadata": {"a": "1"}, "n": 3},
                          {"name": "x", "metadata": {"k": ["list"]}}, {"metadata": {"a": "b"}, "allowed-tools": []}]
    for _ in range(1500):
        front = {"name": text(), "description": text(), "metadata": {text(): text() for _ in range(rnd.randint(0, 6))}}
        if rnd.random() < 0.3:
            front["allowed-tools"] = [text() for _ in range(rnd.randint(0, 3))]
        if rnd.random() < 0.2:
            front[text()] = text()
        fronts.append(front)
    for front in fronts:
        assert front_matter(front) == yaml.safe_dump(front, **_DUMP), front
