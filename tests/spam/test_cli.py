from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from palabre.spam.cli import DEFAULT_TRAIN_FILES, spam_cli, train_command
from palabre.spam.data import read_csv
from palabre.spam.metrics import METRIC_KEYS

from .conftest import spam_data


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(spam_cli, list(args))
    return res.exit_code, res.output


@pytest.mark.parametrize("cmd", [[], ["train"], ["eval"], ["check"]])
def test_help(cmd: list[str]) -> None:
    code, out = run(*cmd, "--help")
    assert code == 0 and "Usage" in out


def test_eval_shipped_json_keys() -> None:
    yt = spam_data("youtube_spam_collection.csv")
    code, out = run("eval", "--protocol", "shipped", "--test", str(yt), "--limit", "150", "--json")
    assert code == 0, out
    res = json.loads(out.strip().splitlines()[-1])
    assert set(METRIC_KEYS) <= set(res)
    assert res["n"] == 150


def test_eval_cross_and_stream_on_small_slices() -> None:
    sms, yt = spam_data("sms_spam_collection.csv"), spam_data("youtube_spam_collection.csv")
    code, out = run(
        "eval", "--protocol", "cross", "--train", str(sms), "--test", str(yt),
        "--limit", "300", "--lambda", "1e-5", "--json",
    )  # fmt: skip
    assert code == 0, out
    assert set(METRIC_KEYS) <= set(json.loads(out.strip().splitlines()[-1]))
    code, out = run("eval", "--protocol", "stream", "--test", str(yt), "--limit", "120", "--json")
    assert code == 0, out
    res = json.loads(out.strip().splitlines()[-1])
    assert set(METRIC_KEYS) <= set(res)
    assert [c["after"] for c in res["curve"]] == [0, 25, 50, 100]
    assert all(set(METRIC_KEYS) <= set(c) for c in res["curve"])


def test_eval_lovo_table_and_json(tmp_path: Path) -> None:
    yt = spam_data("youtube_spam_collection.csv")
    code, out = run(
        "eval", "--protocol", "lovo", "--data", str(yt), "--limit", "420", "--lambda", "1e-5"
    )  # fmt: skip
    assert code == 0, out
    assert "youtube:Psy:9bZkp7q19f0" in out and "mean" in out and "roc_auc" in out


def test_bad_csv_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    missing.write_text("id,text\n1,hello\n")
    code, out = run("eval", "--protocol", "shipped", "--test", str(missing))
    assert code != 0 and "missing column(s) label" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text,label,author,date,source\n1,hello,spam,,,x\n")
    code, out = run("eval", "--protocol", "shipped", "--test", str(bad))
    assert code != 0 and "label must be 0 (ham) or 1 (spam)" in out and "line 2" in out


def test_missing_data_dir_says_what_to_do(tmp_path: Path) -> None:
    code, out = run("eval", "--protocol", "shipped", "--data-dir", str(tmp_path / "nope"),
                    "--test", "spam/x.csv")  # fmt: skip
    assert code != 0 and "PALABRE_TEST_DATA" in out
    code, out = run("eval", "--protocol", "cross", "--test", "x.csv")
    assert code != 0 and "--train" in out


def test_huge_csv_field(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_text(
        'id,text,label,author,date,source\n1,"' + "spam " * 100_000 + '",1,,,t\n2,hi,0,,,t\n'
    )
    code, out = run("eval", "--protocol", "shipped", "--test", str(big), "--json")
    assert code == 0, out
    assert json.loads(out.strip().splitlines()[-1])["n"] == 2


def test_check_command() -> None:
    code, out = run("check", "WIN a FREE iPhone!!! click http://bit.ly/win now")
    assert code == 0
    assert out.split()[0] in ("spam", "discard")
    code, out = run("check", "--json", "Lovely song, thanks for sharing")
    assert code == 0
    assert json.loads(out)["class"] == "ham"
    res = CliRunner().invoke(spam_cli, ["check"], input="text from stdin http://bit.ly/x")
    assert res.exit_code == 0 and "score" in res.output


def test_card_command_is_the_same_whichever_entry_point_ran_it() -> None:
    assert train_command(None, DEFAULT_TRAIN_FILES, None, None, None) == "palabre spam train"
    assert (
        train_command(Path("/data"), ["my file.csv"], Path("/tmp/m"), 1e-06, 50)
        == "palabre spam train --data-dir /data --file 'my file.csv' --lambda 1e-06 "
        "--limit 50 --out /tmp/m"
    )


def test_the_page_of_each_row(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text(
        "id,text,label,author,date,source,permalink\n"
        "1,hi,0,,,youtube:Psy:9bZkp7q19f0,\n"
        "2,hi,0,,,blog,https://blog.example/post-1\n"
        "3,hi,0,,,sms,\n"
    )
    pages = [r.permalink for r in read_csv(rows)]
    assert pages == [
        "https://www.youtube.com/watch?v=9bZkp7q19f0",
        "https://blog.example/post-1",
        "",
    ]
