"""``townhall consultation load/list/show``, ``results`` and ``export SLUG`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import env, run  # noqa: F401  (env is a fixture)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "dental-bill.yaml"


def test_load_list_show_results_and_export(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    loaded = json.loads(run(["consultation", "load", str(EXAMPLE), "--json"], env).stdout)
    shown = json.loads(run(["consultation", "show", "dental-bill", "--json"], env).stdout)
    assert loaded == shown
    assert list(shown)[:4] == ["slug", "title", "status", "version"]
    assert {"introduction", "closes", "topics", "participants", "completed"} <= set(shown)
    assert [i["kind"] for i in shown["items"]][:2] == ["scale", "clause"]
    listed = json.loads(run(["consultation", "list", "--json"], env).stdout)
    assert listed == [
        {
            "slug": "dental-bill",
            "title": "Draft Dental Services Bill",
            "status": "draft",
            "closes": "2027-01-31T17:00:00+00:00",
            "items": 15,
            "participants": 0,
            "completed": 0,
        }
    ]
    rating = shown["items"][9]["id"]
    result = json.loads(run(["results", rating, "--json"], env).stdout)
    assert [o["label"] for o in result["options"]] == ["Improve", "Keep as is", "Scrap"]
    assert result["answers"] == [] and result["kind"] == "rating"
    exported = run(["export", "dental-bill", "--format", "csv"], env).stdout
    assert exported.splitlines()[0].startswith("consultation,version,position,clause,regulation,")
    ods = tmp_path / "c.ods"
    run(["export", "dental-bill", "--format", "ods", "-o", str(ods)], env)
    assert ods.read_bytes()[:2] == b"PK"


def test_a_bad_file_is_refused_with_its_line_and_nothing_loaded(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "slug: ok\ntitle: T\ncloses: 14d\nitems:\n  - kind: poll\n    question: Q?\n",
        encoding="utf-8",
    )
    refused = run(["consultation", "load", str(bad)], env, check=False)
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"{bad}:5: items[0].options: Field required")
    assert "Traceback" not in refused.stderr
    assert json.loads(run(["consultation", "list", "--json"], env).stdout) == []
    missing = run(["consultation", "show", "ok"], env, check=False)
    assert missing.returncode == 1 and "no consultation 'ok'" in missing.stderr
    unknown = run(["export", "ok"], env, check=False)
    assert unknown.returncode == 1 and "no item with id 'ok' (nor a consultation)" in unknown.stderr
