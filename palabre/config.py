"""One settings object: a TOML file plus ``PALABRE_*`` environment variables.

Validated once at start-up; every error names the setting and says how to fix it, so
``palabre serve`` fails fast instead of misbehaving later.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ModerationMode = Literal["none", "first-comment", "all"]


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to change."""


class SiteConfig(BaseModel):
    """A publisher's site: comments are accepted only for pages on these origins."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    origins: list[str] = Field(min_length=1)
    moderation: ModerationMode = "none"
    title: str = ""

    @field_validator("origins")
    @classmethod
    def _origins_are_urls(cls, origins: list[str]) -> list[str]:
        cleaned = []
        for origin in origins:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(
                    f"{origin!r} is not an origin; write it as scheme://host[:port], "
                    "for example https://news.example.com"
                )
            cleaned.append(f"{parts.scheme}://{parts.netloc}".lower())
        return cleaned


class CommentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    edit_window: int = Field(default=900, ge=0, le=7 * 24 * 3600, description="seconds")
    max_length: int = Field(default=10_000, ge=10, le=200_000, description="characters")
    max_author_length: int = Field(default=80, ge=1, le=500)
    rate_limit_per_minute: int = Field(
        default=10, ge=0, description="new comments per IP and minute; 0 turns the limit off"
    )
    default_page_size: int = Field(default=50, ge=1, le=500)


class SpamSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    unsure: float | None = Field(default=None, ge=0, le=1, description="score from which to hold")
    spam: float | None = Field(default=None, ge=0, le=1)
    discard: float | None = Field(default=None, ge=0, le=1)
    share_learning: bool = Field(
        default=False, description="let one site's decisions change other sites' verdicts"
    )


class PrivacySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ip_retention_days: int = Field(default=30, ge=0, le=3650)
    spam_retention_days: int = Field(default=30, ge=1, le=3650)
    check_log_retention_days: int = Field(default=90, ge=1, le=3650)
    contact: str = Field(default="", description="who readers write to about their data")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PALABRE_", env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Path("data")
    database_url: str = ""
    public_url: str = Field(default="", description="the URL readers reach this server at")
    sites: list[SiteConfig] = Field(default_factory=list)
    comments: CommentSettings = Field(default_factory=CommentSettings)
    spam: SpamSettings = Field(default_factory=SpamSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    trust_proxy_headers: bool = Field(
        default=False, description="read the client IP from X-Forwarded-For"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment variables win over the file, as operators expect from containers.
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _unique_site_names(self) -> Settings:
        names = [site.name for site in self.sites]
        duplicates = {name for name in names if names.count(name) > 1}
        if duplicates:
            raise ValueError(f"site names must be unique; repeated: {sorted(duplicates)}")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'palabre.db').resolve()}"

    def with_default_site(self, serving_origin: str) -> Settings:
        """With no site configured, accept comments for pages served by Palabre itself."""
        if self.sites:
            return self
        origins = {serving_origin.lower()}
        parts = urlsplit(serving_origin)
        if parts.hostname in ("127.0.0.1", "localhost"):
            port = f":{parts.port}" if parts.port else ""
            origins |= {f"{parts.scheme}://127.0.0.1{port}", f"{parts.scheme}://localhost{port}"}
        if self.public_url:
            pub = urlsplit(self.public_url)
            origins.add(f"{pub.scheme}://{pub.netloc}".lower())
        site = SiteConfig(name="demo", origins=sorted(origins), title="Palabre demo")
        return self.model_copy(update={"sites": [site]})


def _describe(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error["loc"]) or "(top level)"
    return f"  {location}: {error['msg']}"


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Read the TOML file (if any), apply PALABRE_* variables, validate everything."""
    values: dict[str, Any] = {}
    if path is None and os.environ.get("PALABRE_CONFIG"):
        path = Path(os.environ["PALABRE_CONFIG"])
    if path is not None:
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {path} does not exist; check --config") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    values.update(overrides)
    try:
        return Settings(**values)
    except ValidationError as exc:
        lines = [_describe(err) for err in exc.errors()]
        source = f"in {path}" if path else "in the PALABRE_* environment variables"
        raise ConfigError(
            f"invalid configuration {source}:\n"
            + "\n".join(lines)
            + "\nSee docs/configuration.md for every setting."
        ) from exc


class Secrets(BaseModel):
    """Keys generated once per installation and kept in a file beside the database."""

    signing_key: str
    avatar_salt: str


def load_or_create_secrets(data_dir: Path) -> Secrets:
    """Secrets live outside the database so a database dump never carries them."""
    path = data_dir / "secrets.toml"
    if path.exists():
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return Secrets(**raw)
    data_dir.mkdir(parents=True, exist_ok=True)
    fresh = Secrets(signing_key=secrets.token_urlsafe(48), avatar_salt=secrets.token_hex(16))
    content = "".join(f'{key} = "{value}"\n' for key, value in fresh.model_dump().items())
    # Create with 0600 so the file is never readable by other users, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    return fresh
