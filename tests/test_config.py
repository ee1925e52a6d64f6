"""Configuration: TOML + environment, validated with messages that say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from palabre.config import ConfigError, load_or_create_secrets, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "palabre.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_file_and_environment_combine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(
        tmp_path,
        """
[[sites]]
name = "news"
origins = ["https://News.Example.com/"]
moderation = "first-comment"

[comments]
edit_window = 600
""",
    )
    monkeypatch.setenv("PALABRE_COMMENTS__EDIT_WINDOW", "120")
    monkeypatch.setenv("PALABRE_DATABASE_URL", "postgresql://db/palabre")
    settings = load_settings(config)
    assert settings.sites[0].origins == ["https://news.example.com"]
    assert settings.sites[0].moderation == "first-comment"
    assert settings.comments.edit_window == 120  # the environment wins
    assert settings.resolved_database_url == "postgresql://db/palabre"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[sites]]\nname = "x"\norigins = ["news.example.com"]', "sites.0.origins"),
        ('[[sites]]\nname = "x"\norigins = ["https://a.example"]\nmoderation = "some"',
         "sites.0.moderation"),
        ("[comments]\nedit_window = -5", "comments.edit_window"),
        ("[comments]\nedit_windw = 5", "comments.edit_windw"),
        ("this is = not toml =", "not valid TOML"),
    ],
)  # fmt: skip
def test_mistakes_name_the_setting(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(write(tmp_path, text))
    assert expected in str(error.value)


def test_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_secrets_are_generated_once_and_private(tmp_path: Path) -> None:
    first = load_or_create_secrets(tmp_path / "data")
    again = load_or_create_secrets(tmp_path / "data")
    assert first == again
    assert len(first.signing_key) >= 32
    assert (tmp_path / "data" / "secrets.toml").stat().st_mode & 0o777 == 0o600
